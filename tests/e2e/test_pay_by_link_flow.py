"""Pay by link end to end on the real stack and the Bridge sandbox: intake, scoring, matching,
settlement, messaging and the vault as their own processes, the sandbox as another.

Two cases are submitted; scoring scores them and matching auctions them, a provider's standing
rule bids, the creditor accepts the quote and the provider the assignment: each case is awarded
by the real auction. Each then gets its first letter (a PDF) and its first e-mail in Mailpit,
both carrying the case's payment link. For case A the debtor follows the link and the sandbox
executes the payment: settlement announces the money and messaging's plan holds within seconds;
the bank's camt.054 intraday notification books the money (the announcement matched, matching
attributes the payment, the plan stops), and the next day's camt.053 line of it books nothing
more. For case B the bank rejects the executed payment: the announcement is unwound and the plan
goes on."""

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

import grpc
import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.db import Database
from services.intake.tests.integration.intake_harness import company, invoice
from services.messaging.tests.integration.messaging_harness import CREDITOR, HOLDER, mailpit
from services.messaging.tests.integration.test_messaging_plan_process import (
    quiet_monday_11h_paris,
)
from services.settlement.tests.unit.camt_files import Entry, camt053, camt054
from tests.e2e.test_messaging_e2e import PROVIDER as COLLECTOR
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows, first_row, one
from tests.support.marketplace import (
    OffsetClock,
    as_creditor,
    as_gateway,
    as_operator,
    as_provider,
    eventually,
)
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


PROVIDER = COLLECTOR.provider_id  # messaging's parties file names it (HOLDER)
CREDITOR_ID = "creditor-1"
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes


async def award_at_auction(
    channel: grpc.aio.Channel, clock: OffsetClock, case_ids: list[str]
) -> None:
    """The market: one approved provider whose standing rule bids 10 %; each case is scored,
    auctioned, quoted, accepted by the creditor and then by the provider."""
    bidding = pb_grpc.BiddingServiceStub(channel)
    quotes = pb_grpc.QuoteServiceStub(channel)
    creditor = as_creditor(CREDITOR_ID)

    async def quote_is(case_id: str, status: str) -> pb.QuoteReply | None:
        reply = await quotes.GetQuote(pb.CaseRef(case_id=case_id), metadata=creditor)
        return reply if (reply.round, reply.status) == (1, status) else None

    for case_id in case_ids:
        await eventually(lambda c=case_id: quote_is(c, "bidding"), "the auction opens", within=120)
    clock.advance(BIDDING_CLOSES)
    for case_id in case_ids:
        quote = await eventually(lambda c=case_id: quote_is(c, "quoted"), "the quote", within=60)
        assert quote.provider_id == PROVIDER
        offered = await quotes.AcceptQuote(pb.CaseRef(case_id=case_id), metadata=creditor)
        assert (offered.status, offered.provider_id) == ("offered", PROVIDER)
        assignment = await bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(PROVIDER)
        )
        assert (assignment.round, assignment.status) == (1, "assigned")


async def open_market(channel: grpc.aio.Channel) -> None:
    """One provider (messaging's collector), approved by an operator, with a standing rule."""
    directory = pb_grpc.ProviderDirectoryServiceStub(channel)
    await directory.RegisterProvider(COLLECTOR, metadata=as_gateway())
    await directory.SetProviderApproval(
        pb.SetProviderApprovalRequest(provider_id=PROVIDER, approved=True),
        metadata=as_operator(),
    )
    await pb_grpc.BiddingServiceStub(channel).SetAutoBidRule(
        pb.SetAutoBidRuleRequest(name="all", fee=Percentage(basis_points=1000)),
        metadata=as_provider(PROVIDER),
    )


async def test_a_case_won_at_auction_is_paid_by_link_notified_and_booked_once(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    sandbox: Callable[[int], str],
    stack: Stack,
    tmp_path: Path,
) -> None:
    prefix = unique_name("pbl") + "."
    # One clock for matching (bidding closes) and messaging (a plan's steps), at a quiet
    # Monday 11:00 in Paris: every step is due at a moment a debtor may be contacted.
    clock = OffsetClock(tmp_path / "clock-offset")
    clock.advance(quiet_monday_11h_paris(datetime.now(UTC)) - datetime.now(UTC))
    services = ("intake", "scoring", "matching", "settlement", "messaging", "vault")
    db = {s: make_database(s) for s in services}
    webhook_port = free_port()
    sandbox_url = sandbox(webhook_port)
    intake = run_service("intake", db["intake"], prefix).start()
    scoring = run_service("scoring", db["scoring"], prefix, intake_target=intake.target).start()
    matching = run_service(
        "matching",
        db["matching"],
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()
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
        json.dumps({"providers": {PROVIDER: HOLDER}, "creditors": {CREDITOR_ID: CREDITOR}})
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
    processes = (messaging, vault, settlement, matching, scoring, intake)

    async def all_rows(url: str, sql: str) -> list[tuple[object, ...]]:
        database = Database.connect(url, pool_size=1)
        try:
            async with database.sessions() as session:
                return [tuple(row) for row in (await session.execute(text(sql))).all()]
        finally:
            await database.dispose()

    async def live_link(case_id: str) -> tuple[str, str, int] | None:
        row = await first_row(
            db["settlement"],
            "SELECT link_id, url, amount_minor FROM payment_links "
            "WHERE case_id = :case AND status = 'live'",
            case=case_id,
        )
        return (str(row[0]), str(row[1]), int(row[2])) if row else None

    try:
        async with matching.channel() as market:
            await open_market(market)
            cases = {}
            async with intake.channel() as channel:
                stub = intake_pb2_grpc.IntakeServiceStub(channel)
                # Two debtors: the contact limits count per debtor across cases (one a day),
                # so two cases of one debtor would not both get their letter on the same day.
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
                            creditor_id=CREDITOR_ID,
                            debtor=company(email=email, **debtors[name]),
                            invoices=[invoice(f"F-PBL-{name}", "1200.00")],
                        ),
                        metadata=as_person("intake", "creditor", CREDITOR_ID),
                    )
                    cases[name] = (str(reply.case_id), email)
            await award_at_auction(market, clock, [case_id for case_id, _ in cases.values()])

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

        # The clock moves to the plan's next step (an e-mail a week or so later, by the
        # strategy scoring chose): the first e-mail in Mailpit carries the link too.
        async def next_step_due(case_id: str) -> datetime | None:
            row = await first_row(
                db["messaging"],
                "SELECT due_at FROM contact_plans WHERE case_id = :case AND status = 'active'"
                " AND due_at > started_at + interval '1 day'",
                case=case_id,
            )
            return row[0] if row else None

        due = [
            await eventually(lambda c=case_id: next_step_due(c), "the plan's next step is set")
            for case_id, _ in cases.values()
        ]
        now = datetime.now(UTC) + clock.offset
        clock.advance(max(due) - now + timedelta(minutes=1))

        async def first_email_with_link(email: str, url: str) -> str | None:
            found = await mailpit("/api/v1/search", query=f"to:{email}")
            if not found["messages"]:
                return None
            first = min(found["messages"], key=lambda summary: summary["Created"])
            mail = await mailpit(f"/api/v1/message/{first['ID']}")
            assert url in mail["Text"], mail["Text"]
            assert url in mail["HTML"]
            return str(first["ID"])

        links = {}
        for name, (case_id, email) in cases.items():
            link = await live_link(case_id)
            assert link is not None
            await eventually(
                lambda e=email, u=link[1]: first_email_with_link(e, u),
                "the first e-mail carries the link",
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
            lambda: one(db["settlement"], ANNOUNCED.format(case_a, "status = 'announced'")),
            "settlement announces the money",
            within=30,
        )
        await eventually(
            lambda: one(
                db["messaging"], PLANS.format(case_a, "pause_reason = 'payment-announced'")
            ),
            "the plan holds within seconds",
            within=30,
        )

        # The bank's camt.054 that minute: the money is booked, the announcement matched, and
        # matching attributes the payment in full, which stops the plan.
        (reference,) = await first_row(
            db["settlement"],
            "SELECT end_to_end_id FROM payment_announcements WHERE case_id = :case",
            case=case_a,
        )
        today = datetime.now(UTC).date()
        notification = tmp_path / "camt054.xml"
        notification.write_bytes(
            camt054(
                [
                    Entry(
                        links["a"][2],
                        booked_on=today,
                        end_to_end_id=reference,
                        reference=reference,
                        servicer_ref="NTF-PBL-A",
                    )
                ]
            )
        )
        notified = settlement.run_command("import-statement", str(notification))
        assert "1 lines: 1 by reference" in notified, notified
        assert await count_rows(db["settlement"], ANNOUNCED.format(case_a, "status = 'matched'"))
        try:
            await eventually(
                lambda: one(
                    db["messaging"],
                    # Matching tells both that the payment settles the case in full and that
                    # the case is closed; whichever messaging hears first names the stop.
                    PLANS.format(
                        case_a,
                        "status = 'stopped' AND stop_reason IN ('paid-in-full', 'closed')",
                    ),
                ),
                "the plan stops once the money is on the account",
                within=180,  # settlement, then matching, then messaging, on a busy machine
            )
        except AssertionError as never:
            seen = [
                (service, await all_rows(db[service], sql))
                for service, sql in (
                    ("settlement", "SELECT topic, sent_at FROM outbox ORDER BY id"),
                    ("matching", "SELECT topic, sent_at FROM outbox ORDER BY id"),
                    ("messaging", "SELECT status, pause_reason, stop_reason FROM contact_plans"),
                )
            ]
            raise AssertionError(f"{never}: {seen}") from None

        # The next day's camt.053 (the bank's own reference for the entry differs): the line
        # is recognised by its end-to-end id and books nothing.
        statement = tmp_path / "camt053.xml"
        statement.write_bytes(
            camt053(
                [
                    Entry(
                        links["a"][2],
                        booked_on=today + timedelta(days=1),
                        value_date=today,
                        end_to_end_id=reference,
                        reference=reference,
                        servicer_ref="STMT-PBL-A",
                    )
                ],
                statement_id=f"STMT-{today:%Y%m%d}-{prefix.strip('.')[-20:]}",
            )
        )
        stated = settlement.run_command("import-statement", str(statement))
        assert "1 already booked from the notification" in stated, stated
        receipts = f"SELECT count(*) FROM receipts WHERE case_id = '{case_a}'"
        assert await count_rows(db["settlement"], receipts) == 1
        received = "SELECT count(*) FROM outbox WHERE topic LIKE '%settlement.payment-received.v1'"
        assert await count_rows(db["settlement"], received) == 1
        booked = await count_rows(
            db["settlement"],
            "SELECT coalesce(sum(debit) - sum(credit), 0) FROM journal_lines"
            " WHERE account_code = '5121'",
        )
        assert booked == links["a"][2]  # one euro counted once
        announced = await count_rows(
            db["settlement"],
            "SELECT coalesce(sum(debit) - sum(credit), 0) FROM journal_lines"
            " WHERE account_code = '5112'",
        )
        assert announced == 0

        # Case B: executed, then rejected by the bank: unwound, and the plan goes on.
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as bridge:
            await bridge.post(f"/sandbox/payment-links/{links['b'][0]}/execute")
            await eventually(
                lambda: one(
                    db["messaging"], PLANS.format(case_b, "pause_reason = 'payment-announced'")
                ),
                "case B's plan holds",
                within=30,
            )
            await bridge.post(f"/sandbox/payment-links/{links['b'][0]}/reject")
        await eventually(
            lambda: one(db["messaging"], PLANS.format(case_b, "status = 'active'")),
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
        checked = settlement.run_command("check")
        assert "BROKEN" not in checked, checked
    finally:
        for process in processes:
            process.stop()
