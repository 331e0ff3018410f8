"""Pay by link end to end on the real stack and the Bridge sandbox: intake, settlement and
messaging as their own processes, the sandbox as another. Two cases are assigned; each gets its
first letter (a PDF) and then an e-mail in Mailpit, both carrying the case's payment link. For
case A the debtor follows the link and the sandbox executes the payment: settlement announces
the money and messaging's plan holds within seconds; the next day's camt.053 line books it once.
For case B the bank rejects the executed payment: the announcement is unwound and the plan goes
on."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from recouvra.events.v1.assignment_events_pb2 import CaseAssigned
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.kafka_security import KafkaConnection
from services.intake.tests.integration.intake_harness import company, invoice
from services.messaging.tests.integration.messaging_harness import CREDITOR, HOLDER, mailpit
from services.messaging.tests.integration.test_messaging_plan_process import (
    quiet_monday_11h_paris,
)
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry, camt053
from settlement.adapters.camt053 import read_statements
from settlement.bootstrap import units_of
from settlement.service_layer.statement_import import import_statement
from tests.support.fact_producers import FactProducers
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows, first_row, one
from tests.support.marketplace import OffsetClock, eventually
from tests.support.stack import Stack, free_port, unique_name

pytestmark = pytest.mark.e2e

PLANS = "SELECT count(*) FROM contact_plans WHERE case_id = '{}' AND {}"
ANNOUNCED = "SELECT count(*) FROM payment_announcements WHERE case_id = '{}' AND {}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """The Bridge sandbox as its own process, posting to settlement's webhook port."""
    started: list[subprocess.Popen[bytes]] = []

    def start(webhook_port: int) -> str:
        port = free_port()
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "settlement.sandbox",
                "--port",
                str(port),
                "--webhook-url",
                f"http://127.0.0.1:{webhook_port}/webhooks/bridge",
            ],
            stdout=(tmp_path / "bridge-sandbox.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, "the sandbox exited"
            try:
                httpx.get(f"http://127.0.0.1:{port}/link/none", timeout=2)
                return f"http://127.0.0.1:{port}"
            except httpx.TransportError:
                time.sleep(0.2)
        raise TimeoutError("the sandbox does not answer")

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


async def test_a_link_in_the_letter_and_the_email_is_paid_announced_and_booked_once(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    sandbox: Callable[[int], str],
    stack: Stack,
    tmp_path: Path,
) -> None:
    prefix = unique_name("pbl") + "."
    clock = OffsetClock(tmp_path / "clock-offset")
    clock.advance(quiet_monday_11h_paris(datetime.now(UTC)) - datetime.now(UTC))
    db = {s: make_database(s) for s in ("intake", "settlement", "messaging", "vault")}
    webhook_port = free_port()
    sandbox_url = sandbox(webhook_port)
    intake = run_service("intake", db["intake"], prefix).start()
    settlement = run_service(
        "settlement",
        db["settlement"],
        prefix,
        bridge_api_url=sandbox_url,
        http_port=str(webhook_port),
    ).start()
    # Messaging keeps every letter and e-mail it sends as evidence in the vault.
    vault = run_service(
        "vault",
        db["vault"],
        prefix,
        bucket=unique_name("vault").replace("_", "-"),
        key_file=str(tmp_path / "keys.json"),
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
    ).start()
    parties = tmp_path / "parties.json"
    parties.write_text(
        json.dumps({"providers": {"provider-1": HOLDER}, "creditors": {"creditor-1": CREDITOR}})
    )
    letters = tmp_path / "letters"
    messaging = run_service(
        "messaging",
        db["messaging"],
        prefix,
        intake_target=intake.target,
        settlement_target=settlement.target,
        vault_target=vault.target,
        parties_file=str(parties),
        letters_dir=str(letters),
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()
    facts = await FactProducers(prefix, "creditor-1").start(kafka_as, "scoring", "matching")

    async def live_link(case_id: str) -> tuple[str, str, int] | None:
        row = await first_row(
            db["settlement"],
            "SELECT link_id, url, amount_minor FROM payment_links "
            "WHERE case_id = :case AND status = 'live'",
            case=case_id,
        )
        return (str(row[0]), str(row[1]), int(row[2])) if row else None

    try:
        cases = {}
        async with intake.channel() as channel:
            stub = intake_pb2_grpc.IntakeServiceStub(channel)
            # Two debtors: the contact limits count per debtor across cases (one a day), so
            # two cases of one debtor would not both get their letter on the same day.
            debtors = {
                "a": {},
                "b": {
                    "name": "Garage Durand SAS",
                    "siren_or_siret": "552 100 554",
                    "vat_number": "FR96552100554",
                },
            }
            for name in ("a", "b"):
                email = f"pbl-{name}-{prefix.strip('.')}@debtor.example"
                reply = await stub.SubmitCase(
                    intake_pb2.SubmitCaseRequest(
                        creditor_id="creditor-1",
                        debtor=company(email=email, **debtors[name]),
                        invoices=[invoice(f"F-PBL-{name}", "1200.00")],
                    ),
                    metadata=as_person("intake", "creditor", "creditor-1"),
                )
                cases[name] = (str(reply.case_id), email)
        for case_id, _ in cases.values():
            await facts.publish(
                "scoring",
                "case-scored",
                case_id,
                CaseScored(case_id=case_id, strategy="amicable-reminders"),
            )
            await facts.publish(
                "matching",
                "case-assigned",
                case_id,
                CaseAssigned(case_id=case_id, provider_id="provider-1", round=1),
            )

        # The first letter of each case: a PDF carrying the case's live link (whole amount).
        async def letter_with_link(case_id: str) -> str | None:
            link = await live_link(case_id)
            for pdf in letters.glob("*.pdf") if link else ():
                text = "".join(
                    "".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(pdf.read_bytes())).pages
                )
                if link and link[1] in text:
                    return link[1]
            return None

        for case_id, _ in cases.values():
            url = await eventually(
                lambda c=case_id: letter_with_link(c), "a letter carries the link", within=120
            )
            assert url.startswith(sandbox_url)

        # A week later, the reminder e-mail in Mailpit carries the link too.
        clock.advance(timedelta(days=7))

        async def email_with_link(email: str, url: str) -> str | None:
            found = await mailpit("/api/v1/search", query=f"to:{email}")
            for summary in found["messages"]:
                mail = await mailpit(f"/api/v1/message/{summary['ID']}")
                if url in mail["Text"] and url in mail["HTML"]:
                    return str(summary["ID"])
            return None

        links = {}
        for name, (case_id, email) in cases.items():
            link = await live_link(case_id)
            assert link is not None
            await eventually(
                lambda e=email, u=link[1]: email_with_link(e, u),
                "the e-mail carries the link",
                within=120,
            )
            links[name] = link

        # Case A: the debtor follows the link and pays; the money is announced, the plan holds.
        async with httpx.AsyncClient(timeout=30) as debtor:
            page = await debtor.get(links["a"][1])
            assert page.status_code == 200
            assert "SANDBOX" in page.text
            (execute,) = re.findall(r"action=(\S+/execute)>", page.text)
            paid = await debtor.post(sandbox_url + execute)
            assert [d["status"] for d in paid.json()["deliveries"]] == [200, 200, 200]
        case_a, case_b = cases["a"][0], cases["b"][0]
        await eventually(
            lambda: one(
                db["settlement"],
                ANNOUNCED.format(case_a, "status = 'announced'"),
            ),
            "settlement announces the money",
            within=30,
        )
        await eventually(
            lambda: one(
                db["messaging"],
                PLANS.format(case_a, "pause_reason = 'payment-announced'"),
            ),
            "the plan holds within seconds",
            within=30,
        )

        # The next day's camt.053: the line books the money once and clears the announcement.
        (reference,) = await first_row(
            db["settlement"],
            "SELECT end_to_end_id FROM payment_announcements WHERE case_id = :case",
            case=case_a,
        )
        database = Database.connect(db["settlement"], pool_size=2)
        try:
            (statement,) = read_statements(
                camt053([Entry(links["a"][2], end_to_end_id=reference, reference=reference)])
            )
            report = await import_statement(statement, units_of(database), CLIENT_MONEY_IBAN)
            assert report.by_reference == 1
        finally:
            await database.dispose()
        assert (
            await count_rows(
                db["settlement"],
                ANNOUNCED.format(case_a, "status = 'matched'"),
            )
            == 1
        )
        assert (
            await count_rows(
                db["settlement"], f"SELECT count(*) FROM receipts WHERE case_id = '{case_a}'"
            )
            == 1
        )
        booked = await count_rows(
            db["settlement"],
            "SELECT coalesce(sum(debit) - sum(credit), 0) FROM journal_lines"
            " WHERE account_code = '5121'",
        )
        assert booked == links["a"][2]  # one euro counted once

        # Case B: executed, then rejected by the bank: unwound, and the plan goes on.
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as bridge:
            await bridge.post(f"/sandbox/payment-links/{links['b'][0]}/execute")
            await eventually(
                lambda: one(
                    db["messaging"],
                    PLANS.format(case_b, "pause_reason = 'payment-announced'"),
                ),
                "case B's plan holds",
                within=30,
            )
            await bridge.post(f"/sandbox/payment-links/{links['b'][0]}/reject")
        await eventually(
            lambda: one(
                db["messaging"],
                PLANS.format(case_b, "status = 'active'"),
            ),
            "a rejected payment resumes the plan",
            within=30,
        )
        assert (
            await count_rows(
                db["settlement"],
                ANNOUNCED.format(case_b, "status = 'unwound' AND unwind_reason = 'rejected'"),
            )
            == 1
        )
    finally:
        await facts.stop()
        for process in (messaging, vault, settlement, intake):
            process.stop()
