"""Issue 15 end to end on the real stack: intake, scoring, matching, settlement, the vault and
messaging as their own processes (matching and messaging on one test clock), Mailpit as the SMTP
server, a creditor's webhook receiver over HTTP.

A case is scored and awarded (a provider's standing rule bids, the creditor accepts the quote,
the provider the assignment): the holder's first letter is in the vault, read back by the holder,
with every R124-4 mention in its PDF text; a week later the e-mail reaches Mailpit with an EPC QR
code that zbarimg decodes to settlement's IBAN and reference and the amount owed. The holder
records a promise: the plan pauses; the promise is missed: it resumes; the money arrives on the
bank statement: settlement books it, matching attributes it in full and the plan stops. The
creditor's receiver verifies every signature, answers 500 once, sees that delivery retried, and
gets each event exactly once."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from messaging.domain.content import Mention
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra.matching.v1 import bidding_pb2 as bidding
from recouvra.matching.v1 import bidding_pb2_grpc as bidding_grpc
from recouvra.messaging.v1 import portal_pb2, portal_pb2_grpc, webhooks_pb2, webhooks_pb2_grpc
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from services.intake.tests.integration.intake_harness import company, invoice
from services.messaging.tests.integration.messaging_harness import CREDITOR, HOLDER, mailpit
from services.messaging.tests.integration.test_messaging_plan_process import (
    quiet_monday_11h_paris,
)
from services.messaging.tests.integration.webhook_receiver import Receiver, running_receiver
from services.settlement.tests.unit.camt_files import Entry, camt053
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import first_row, one
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

PLAN = "SELECT count(*) FROM contact_plans WHERE case_id = '{}' AND {}"
WEBHOOK_EVENTS = ["case.scored", "case.assigned", "promise.made", "payment.received"]
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes
PROVIDER = bidding.RegisterProviderRequest(
    provider_id="provider-1",  # named in messaging's parties file as the collector
    name=str(HOLDER["name"]),
    kind="commissaire",
    siren="552081317",
    regions=["FR"],
    serves_business=True,
    serves_consumer=True,
    min_amount_minor=10_000,
    max_amount_minor=10_000_000,
    judicial=True,
    capacity=5,
)


def flat(text: str) -> str:
    """Text without any whitespace (PDF extraction breaks lines and spaces where it likes)."""
    return "".join(text.split())


def euros_fr(minor: int) -> str:
    """An amount as a French letter prints it, whitespace aside: 1 234,56 EUR."""
    return f"{minor // 100},{minor % 100:02d}EUR"


def r124_4_mentions(
    invoice_number: str,
    legal: intake_pb2.LegalAmounts,
    pay: settlement_pb2.PaymentInstructions,
) -> dict[Mention, list[str]]:
    """For each R124-4 mention, what the first letter of this case must show, stated from the
    live case (intake's amounts, settlement's instructions, the parties file), not from the
    code that renders it; a mention added to `Mention` without a line here fails the test."""
    return {
        Mention.COLLECTOR_IDENTITY: [str(HOLDER["name"]), "4 place Bellecour", "69002", "Lyon"],
        Mention.AMICABLE_ACTIVITY: ["recouvrement amiable"],
        Mention.CREDITOR_IDENTITY: [str(CREDITOR["name"]), "8 avenue Foch", "75016", "Paris"],
        Mention.CLAIM_BASIS: [invoice_number],
        Mention.AMOUNT_ITEMISED: [
            "principal:" + euros_fr(legal.principal.minor_units),
            "intérêtsderetard:" + euros_fr(legal.interest.minor_units),
            euros_fr(legal.indemnity.minor_units),
            "total:" + euros_fr(legal.total.minor_units),
        ],
        Mention.DEMAND_TO_PAY: [
            "Nous vous demandons de payer la somme de " + euros_fr(legal.total.minor_units)
        ],
        Mention.PAYMENT_TERMS: [pay.iban_formatted, pay.reference_formatted],
        Mention.L111_8_TEXT: [
            "Les frais de recouvrement entrepris sans titre exécutoire restent à la charge du "
            "créancier",
            "caractère dolosif de l'inexécution",
        ],
    }


def zbar(png: bytes, where: Path) -> str:
    """What zbarimg (Debian's zbar-tools) reads in the image."""
    where.write_bytes(png)
    done = subprocess.run(
        ["zbarimg", "--raw", "-q", str(where)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.rstrip("\n")


async def test_a_case_awarded_is_written_to_lawfully_paused_resumed_stopped_and_told_by_webhook(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    stack: Stack,
    tmp_path: Path,
) -> None:
    prefix = unique_name("msg-e2e") + "."
    clock = OffsetClock(tmp_path / "clock-offset")  # matching's and messaging's
    monday = quiet_monday_11h_paris(datetime.now(UTC))
    clock.advance(monday - datetime.now(UTC))
    services = ("intake", "scoring", "matching", "settlement", "messaging", "vault")
    db = {s: make_database(s) for s in services}
    intake = run_service("intake", db["intake"], prefix)
    scoring = run_service("scoring", db["scoring"], prefix, intake_target=intake.target)
    matching = run_service(
        "matching",
        db["matching"],
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    )
    # No Bridge listens there: messages go without a payment link (a convenience beside the
    # IBAN and the EPC QR code, issue 20), which this test does not need.
    settlement = run_service(
        "settlement", db["settlement"], prefix, bridge_api_url=f"http://127.0.0.1:{free_port()}"
    )
    vault = run_service(
        "vault",
        db["vault"],
        prefix,
        bucket=unique_name("vault").replace("_", "-"),
        key_file=str(tmp_path / "keys.json"),
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
    )
    parties = tmp_path / "parties.json"
    parties.write_text(
        json.dumps({"providers": {"provider-1": HOLDER}, "creditors": {"creditor-1": CREDITOR}})
    )
    messaging = run_service(
        "messaging",
        db["messaging"],
        prefix,
        intake_target=intake.target,
        settlement_target=settlement.target,
        vault_target=vault.target,
        parties_file=str(parties),
        letters_dir=str(tmp_path / "letters"),
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
        webhooks_allow_private_targets="true",  # the receiver listens on 127.0.0.1
        webhooks_poll_seconds="0.2",
    )
    processes = (messaging, vault, settlement, matching, scoring, intake)
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))
    holder = as_person("messaging", "provider", "provider-1")
    try:
        async with (
            running_receiver() as receiver,
            messaging.channel() as to_messaging,
            intake.channel() as to_intake,
            settlement.channel() as to_settlement,
            vault.channel() as to_vault,
            matching.channel() as to_matching,
        ):
            # A provider of the marketplace, approved, with a standing rule that bids.
            directory = bidding_grpc.ProviderDirectoryServiceStub(to_matching)
            await directory.RegisterProvider(PROVIDER, metadata=as_gateway())
            await directory.SetProviderApproval(
                bidding.SetProviderApprovalRequest(provider_id="provider-1", approved=True),
                metadata=as_operator(),
            )
            await bidding_grpc.BiddingServiceStub(to_matching).SetAutoBidRule(
                bidding.SetAutoBidRuleRequest(name="all", fee=Percentage(basis_points=1000)),
                metadata=as_provider("provider-1"),
            )

            # The creditor registers its webhook endpoint before anything happens.
            created = await webhooks_pb2_grpc.WebhookServiceStub(
                to_messaging
            ).CreateWebhookEndpoint(
                webhooks_pb2.CreateWebhookEndpointRequest(
                    url=receiver.url("/creditor-1"), event_types=WEBHOOK_EVENTS
                ),
                metadata=as_person("messaging", "creditor", "creditor-1"),
            )
            receiver.secrets = {"/creditor-1": created.secret}

            # The creditor submits the case; it is scored and awarded to provider-1.
            email = f"{prefix.strip('.')}@debtor.example"
            intake_stub = intake_pb2_grpc.IntakeServiceStub(to_intake)
            today = datetime.now(UTC).date()
            submitted = await intake_stub.SubmitCase(
                intake_pb2.SubmitCaseRequest(
                    creditor_id="creditor-1",
                    debtor=company(email=email),
                    invoices=[
                        invoice(
                            "F-E2E-15",
                            "1200.00",
                            issue_date=(today - timedelta(days=90)).isoformat(),
                            due_date=(today - timedelta(days=60)).isoformat(),
                        )
                    ],
                ),
                metadata=as_person("intake", "creditor", "creditor-1"),
            )
            case_id = str(submitted.case_id)
            quotes = bidding_grpc.QuoteServiceStub(to_matching)

            async def quote(status: str) -> bidding.QuoteReply | None:
                reply: bidding.QuoteReply = await quotes.GetQuote(
                    bidding.CaseRef(case_id=case_id), metadata=as_creditor("creditor-1")
                )
                return reply if reply.status == status else None

            await eventually(lambda: quote("bidding"), "round 1 opens", within=90)
            clock.advance(BIDDING_CLOSES)
            quoted = await eventually(lambda: quote("quoted"), "the round-1 quote")
            assert quoted.provider_id == "provider-1"
            await quotes.AcceptQuote(
                bidding.CaseRef(case_id=case_id), metadata=as_creditor("creditor-1")
            )
            assigned = await bidding_grpc.BiddingServiceStub(to_matching).AcceptAssignment(
                bidding.CaseRef(case_id=case_id), metadata=as_provider("provider-1")
            )
            assert (assigned.round, assigned.status) == (1, "assigned")

            # What is owed, from intake; how to pay it, from settlement (as the creditor).
            legal = (
                await intake_stub.GetCase(
                    intake_pb2.GetCaseRequest(case_id=case_id),
                    metadata=as_person("intake", "creditor", "creditor-1"),
                )
            ).legal_amounts
            total = legal.total.minor_units
            assert total > 120_000  # principal, late interest and the recovery indemnity
            settlement_stub = settlement_pb2_grpc.SettlementServiceStub(to_settlement)

            async def instructions() -> settlement_pb2.PaymentInstructions:
                answer: settlement_pb2.PaymentInstructions
                answer = await settlement_stub.GetPaymentInstructions(
                    settlement_pb2.GetPaymentInstructionsRequest(
                        case_id=case_id, amount_due=Money(currency="EUR", minor_units=total)
                    ),
                    metadata=as_person("settlement", "creditor", "creditor-1"),
                )
                return answer

            pay = await eventually(instructions, "settlement knows the case")

            # The first letter, read back from the vault by the holder, carries every mention.
            vault_stub = vault_pb2_grpc.VaultServiceStub(to_vault)
            as_holder_of_vault = as_person("vault", "provider", "provider-1")

            async def letter_in_vault() -> vault_pb2.Document | None:
                listed = await vault_stub.ListDocuments(
                    vault_pb2.ListDocumentsRequest(case_id=case_id), metadata=as_holder_of_vault
                )
                pdfs = [d for d in listed.documents if d.content_type == "application/pdf"]
                return pdfs[0] if pdfs else None

            document = await eventually(letter_in_vault, "the first letter is in the vault", 120)
            chunks = [
                part.chunk
                async for part in vault_stub.GetDocument(
                    vault_pb2.GetDocumentRequest(document_id=document.document_id),
                    metadata=as_holder_of_vault,
                )
                if part.WhichOneof("part") == "chunk"
            ]
            reader = PdfReader(io.BytesIO(b"".join(chunks)))
            letter = flat("".join(page.extract_text() for page in reader.pages))
            mentions = r124_4_mentions("F-E2E-15", legal, pay)
            assert set(mentions) == set(Mention)
            missing = [
                (m.value, s)
                for m, snippets in mentions.items()
                for s in snippets
                if flat(s) not in letter
            ]
            assert missing == []

            # A week later the reminder e-mail reaches Mailpit; zbarimg reads its EPC QR code.
            clock.advance(timedelta(days=7))

            async def mail_to_debtor() -> dict[str, Any] | None:
                found = await mailpit("/api/v1/search", query=f"to:{email}")
                for summary in found["messages"]:
                    return dict(await mailpit(f"/api/v1/message/{summary['ID']}"))
                return None

            mail = await eventually(mail_to_debtor, "the e-mail reaches Mailpit", 120)
            codes = [
                zbar(
                    await mailpit(f"/api/v1/message/{mail['ID']}/part/{part['PartID']}"),
                    tmp_path / f"part-{part['PartID']}.png",
                )
                for part in mail["Inline"]
                if part["ContentType"] == "image/png"
            ]
            (epc,) = [code.split("\n") for code in codes if code.startswith("BCD\n")]
            assert epc[:4] == ["BCD", "002", "1", "SCT"]
            assert epc[6] == pay.iban
            assert epc[7] == f"EUR{total // 100}.{total % 100:02d}"
            assert epc[9] == pay.reference
            assert pay.epc_qr_payload.split("\n")[6:10] == epc[6:10]

            # The holder records the debtor's promise to pay tomorrow: the plan pauses.
            promised_on = (monday + timedelta(days=8)).date()
            await portal_pb2_grpc.DebtorActionServiceStub(to_messaging).RecordPromise(
                portal_pb2.RecordPromiseRequest(
                    case_id=case_id,
                    amount=Money(currency="EUR", minor_units=total),
                    promised_on=promised_on.isoformat(),
                ),
                metadata=holder,
            )
            await eventually(
                lambda: one(db["messaging"], PLAN.format(case_id, "pause_reason = 'promise'")),
                "the promise pauses the plan",
            )

            # Nothing came by the promised day and its grace: the plan resumes.
            clock.advance(timedelta(days=7))
            await eventually(
                lambda: one(db["messaging"], PLAN.format(case_id, "status = 'active'")),
                "the missed promise resumes the plan",
            )

            # The money reaches the client-money account (a camt.053 line with the reference):
            # settlement books it and tells the creditor, matching attributes it in full.
            imported = await settlement_stub.ImportStatement(
                settlement_pb2.ImportStatementRequest(
                    content=camt053(
                        [Entry(total, booked_on=today, reference=pay.reference)],
                        statement_id=unique_name("STMT"),
                    )
                ),
                metadata=as_person("settlement", "operator", "", "user:operator"),
            )
            assert [s.matched_by_reference for s in imported.statements] == [1]
            received = await eventually(
                lambda: delivered(receiver, "payment.received"), "payment.received is posted"
            )
            assert received["settles_in_full"] is True

            # Matching attributes the money in full and closes the case (the creditor reads
            # both on its timeline); messaging stops the plan on whichever fact it hears first.
            async def told_on_timeline() -> set[str] | None:
                timeline = await intake_stub.GetCaseTimeline(
                    intake_pb2.GetCaseTimelineRequest(case_id=case_id),
                    metadata=as_person("intake", "creditor", "creditor-1"),
                )
                told = {e.event_type for e in timeline.entries if e.source == "matching"}
                return told if {"payment-attributed", "case-closed"} <= told else None

            await eventually(told_on_timeline, "matching attributes the payment, closes the case")

            async def stop_reason() -> str | None:
                row = await first_row(
                    db["messaging"],
                    "SELECT stop_reason FROM contact_plans"
                    " WHERE case_id = :case AND status = 'stopped'",
                    case=case_id,
                )
                return None if row is None else str(row[0])

            reason = await eventually(stop_reason, "the full payment stops the plan")
            assert reason in ("paid-in-full", "closed")

            # Every signature verified; the first post, answered 500, came again; each event
            # arrived exactly once.
            await eventually(
                lambda: all_delivered(receiver), "every chosen event delivered", within=90
            )
            assert all(r.verified for r in receiver.requests)
            scored = await delivered(receiver, "case.scored")
            assert scored is not None
            assert scored["strategy"] == "amicable-reminders"  # a letter, then e-mails
            assert receiver.requests[0].answered == 500
            ids = [r.webhook_id for r in receiver.delivered()]
            assert receiver.requests[0].webhook_id in ids, "the 500 was retried"
            assert len(ids) == len(set(ids)) == len(WEBHOOK_EVENTS), "each event once"
            assert len(receiver.requests) == len(ids) + 1
            assert sorted(r.body["type"] for r in receiver.delivered()) == sorted(WEBHOOK_EVENTS)
            assert {r.body["data"]["case_id"] for r in receiver.delivered()} == {case_id}
    finally:
        for process in processes:
            process.stop()


async def delivered(receiver: Receiver, event_type: str) -> dict[str, Any] | None:
    """The data of the event of this type the receiver accepted, once it has."""
    for request in receiver.delivered():
        if request.body["type"] == event_type:
            return dict(request.body["data"])
    return None


async def all_delivered(receiver: Receiver) -> bool | None:
    """True once every chosen event was accepted and the refused one came again."""
    if not receiver.requests:
        return None
    types = {r.body["type"] for r in receiver.delivered()}
    retried = receiver.requests[0].webhook_id in {r.webhook_id for r in receiver.delivered()}
    return True if types == set(WEBHOOK_EVENTS) and retried else None
