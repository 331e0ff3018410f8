"""Issue 14's end-to-end test: one euro's whole path through the real services.

Intake, scoring, matching (on a test clock) and settlement run as their own processes. A creditor
submits a case to intake; scoring scores it; matching auctions it, the one provider bids 12 % and
wins, and both sides accept. An operator sets the creditor's referring partner (the product keeps
a referral per creditor, not per provider). The debtor pays 1,000.00 quoting the case's RF
reference (asked of settlement as messaging asks it); an operator imports that camt.053 over gRPC.
Settlement allocates it by the law (indemnity, interest, principal) and tells matching, which
credits the holder; settlement books the fee at the bid's rate, its VAT, the platform's
commission and the partner's referral. A payout batch pays creditor, provider and partner once
two different operators approved it (one alone is refused); its pain.001 validates against the
ISO 20022 schema, the FEC export passes the tests' own validator and bean-check accepts the
beancount export.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
import sepaxml
import xmlschema

from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra.settlement.v1 import settlement_pb2 as spb
from recouvra.settlement.v1 import settlement_pb2_grpc as spb_grpc
from recouvra_shared.events import unpack
from recouvra_shared.legal.ecb_rates import half_year_start
from recouvra_shared.percentages import to_percentage
from services.intake.tests.integration.intake_harness import company
from services.settlement.tests.fec_validator import read_fec
from services.settlement.tests.unit.camt_files import Entry, camt053
from tests.support.fixtures import ServiceProcess
from tests.support.identity import CallAs, as_person, as_service
from tests.support.kafka_read import count_rows, read_topic
from tests.support.marketplace import (
    OffsetClock,
    as_creditor,
    as_gateway,
    as_operator,
    as_provider,
    eventually,
)
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

PARIS = ZoneInfo("Europe/Paris")
CREDITOR = "creditor-e2e14"
PROVIDER = "etude-garnier"
PARTNER = "partner-lefort"
SIREN = "732829320"  # the platform's, naming the FEC file
PAIN_001_09 = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"
BEAN_CHECK = Path(sys.executable).parent / "bean-check"
PRINCIPAL = 300_000  # one invoice of 3,000.00
PAID = 100_000  # the debtor pays 1,000.00 of it
# The shipped ECB table's last change is 2.15 % (11 June 2025): every half-year since starts at
# 2.15 %, and interest between professionals runs at it plus 10 points (Code de commerce L441-10).
RATE_PERCENT = Decimal("12.15")
PAYEES = (
    ("creditor", CREDITOR, "DE89370400440532013000", "COBADEFFXXX"),
    ("provider", PROVIDER, "NL91ABNA0417164300", "ABNANL2A"),
    ("partner", PARTNER, "FR1420041010050500013M02606", "PSSTFRPPLIL"),
)


def operator(name: str) -> CallAs:
    return as_person("settlement", "operator", "", name)


async def balance(url: str, account: str) -> int:
    """Credits less debits of one ledger account, in cents (a liability's or income's balance)."""
    return await count_rows(
        url,
        "SELECT coalesce(sum(credit) - sum(debit), 0) FROM journal_lines "
        f"WHERE account_code = '{account}'",
    )


async def test_a_case_awarded_at_12_percent_is_paid_booked_paid_out_and_exported(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e14") + "."
    clock = OffsetClock(tmp_path / "matching-clock-offset")
    db = {s: make_database(s) for s in ("intake", "scoring", "matching", "settlement")}
    intake = run_service("intake", db["intake"], prefix)
    scoring = run_service("scoring", db["scoring"], prefix, intake_target=intake.target)
    matching = run_service(
        "matching",
        db["matching"],
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    )
    settlement = run_service("settlement", db["settlement"], prefix, intake_target=intake.target)
    # Started side by side, and meanwhile an operator sets who referred the creditor (settlement's
    # command line; a creditor's referral applies to the fees booked after it).
    await asyncio.gather(
        *(asyncio.to_thread(p.start) for p in (intake, scoring, matching, settlement)),
        asyncio.to_thread(
            settlement.run_command, "billing", "creditor", CREDITOR, "--partner", PARTNER,
            "--operator", "ops-anne", "--reason", "referral agreement of the e2e test",
        ),
    )  # fmt: skip

    # The invoice fell due 60 days before today (Paris), or on the eve of the half-year if that
    # is nearer, so that all its interest runs at one half-year's rate.
    today = datetime.now(UTC).astimezone(PARIS).date()
    due = max(today - timedelta(days=60), half_year_start(today) - timedelta(days=1))

    # --- submitted, scored, auctioned, awarded at 12 %, accepted by both sides -------------
    async with intake.channel() as channel:
        submitted = await intake_pb2_grpc.IntakeServiceStub(channel).SubmitCase(
            intake_pb2.SubmitCaseRequest(
                creditor_id=CREDITOR,
                debtor=company(),
                invoices=[
                    intake_pb2.Invoice(
                        invoice_number="F-E2E-14",
                        issue_date=(due - timedelta(days=30)).isoformat(),
                        due_date=due.isoformat(),
                        currency="EUR",
                        amount_due="3000.00",
                    )
                ],
            ),
            metadata=as_person("intake", "creditor", CREDITOR),
        )
    case_id = str(submitted.case_id)
    async with matching.channel() as channel:
        directory = pb_grpc.ProviderDirectoryServiceStub(channel)
        bidding = pb_grpc.BiddingServiceStub(channel)
        quotes = pb_grpc.QuoteServiceStub(channel)
        await directory.RegisterProvider(
            pb.RegisterProviderRequest(
                provider_id=PROVIDER, name="Etude Garnier", kind="commissaire",
                siren="542107651", regions=["FR"], serves_business=True, serves_consumer=True,
                min_amount_minor=10_000, max_amount_minor=10_000_000, judicial=True, capacity=5,
            ),
            metadata=as_gateway(),
        )  # fmt: skip
        await directory.SetProviderApproval(
            pb.SetProviderApprovalRequest(provider_id=PROVIDER, approved=True),
            metadata=as_operator(),
        )

        async def open_auction() -> pb.OpenAuction | None:
            listing = await bidding.ListOpenAuctions(
                pb.ListOpenAuctionsRequest(), metadata=as_provider(PROVIDER)
            )
            return next((a for a in listing.auctions if a.case_id == case_id), None)

        await eventually(open_auction, "the scored case opens an auction", within=120)
        bid = await bidding.PlaceBid(
            pb.BidRequest(case_id=case_id, fee=to_percentage(Decimal("12"))),
            metadata=as_provider(PROVIDER),
        )
        assert (bid.round, bid.fee.basis_points) == (1, 1_200)
        clock.advance(timedelta(minutes=16))  # bidding lasts 15 minutes

        async def quoted() -> pb.QuoteReply | None:
            quote = await quotes.GetQuote(
                pb.CaseRef(case_id=case_id), metadata=as_creditor(CREDITOR)
            )
            return quote if quote.status == "quoted" else None

        quote = await eventually(quoted, "the round-1 quote")
        # The one bid won at 12 % of what the debtor pays, judged at scoring's probability (an
        # unproven provider is judged at the case's own score).
        assert (quote.provider_id, quote.fee.basis_points, quote.fee_base) == (
            PROVIDER,
            1_200,
            "collected",
        )
        assert quote.cost_on_full_recovery.minor_units == 36_000  # 12 % of 3,000.00
        scored = await read_topic(stack, prefix + "scoring.case-scored.v1", 1.0)
        (score,) = [unpack(e, CaseScored) for e in scored.envelopes if e.case_id == case_id]
        probability = Decimal(score.recovery_probability).quantize(Decimal("0.0001"))
        assert Decimal(quote.recovery_probability) == probability
        offered = await quotes.AcceptQuote(
            pb.CaseRef(case_id=case_id), metadata=as_creditor(CREDITOR)
        )
        assert (offered.status, offered.provider_id) == ("offered", PROVIDER)
        assigned = await bidding.AcceptAssignment(
            pb.CaseRef(case_id=case_id), metadata=as_provider(PROVIDER)
        )
        assert (assigned.round, assigned.status) == (1, "assigned")
    # The day the debtor pays: the holder's window has begun on matching's clock, which the
    # auction moved 16 minutes ahead and which dates the window in Paris. Taken now, not at the
    # start: a run that crosses midnight in Paris would otherwise pay the day before the window.
    paid_on = (datetime.now(UTC) + clock.offset).astimezone(PARIS).date()

    url = db["settlement"]
    known = f"SELECT count(*) FROM settled_cases WHERE case_id = '{case_id}'"
    await eventually(
        lambda: _one_or_none(url, known), "settlement knows the case from intake", within=60
    )

    async with settlement.channel() as channel:
        stub = spb_grpc.SettlementServiceStub(channel)
        payouts = spb_grpc.PayoutOperationsStub(channel)
        # --- the debtor pays quoting the reference messaging would have given it -----------
        instructions = await stub.GetPaymentInstructions(
            spb.GetPaymentInstructionsRequest(case_id=case_id),
            metadata=as_service("settlement", "messaging"),
        )
        assert instructions.reference.startswith("RF")
        statement = camt053(
            [Entry(PAID, reference=instructions.reference, servicer_ref="E2E14-1",
                   booked_on=paid_on, debtor_name="Boulangerie Martin SARL")],
            statement_id=f"STMT-{prefix.strip('.')}",
        )  # fmt: skip
        imported = await stub.ImportStatement(
            spb.ImportStatementRequest(content=statement), metadata=operator("ops-anne")
        )
        assert imported.statements[0].matched_by_reference == 1

        # --- allocation by the law, as every other service hears it ------------------------
        # 1,000.00 goes first to the 40.00 recovery indemnity, then to the interest: 3,000.00
        # x 12.15 % x days / 365 (days = the day after the due date to the day paid, e.g. 60
        # days: 3,000.00 x 0.1215 x 60 / 365 = 59.917... = 59.92), then to the principal.
        days = (paid_on - due).days
        interest = int(
            (Decimal(PRINCIPAL) * RATE_PERCENT / 100 * days / 365).quantize(
                Decimal(1), rounding=ROUND_HALF_UP
            )
        )
        received = await read_topic(stack, prefix + "settlement.payment-received.v1", 1.0)
        (envelope,) = [e for e in received.envelopes if e.case_id == case_id]
        allocation = unpack(envelope, PaymentReceived)
        assert (
            allocation.to_indemnity.minor_units,
            allocation.to_interest.minor_units,
            allocation.to_principal.minor_units,
            allocation.overpaid.minor_units,
            allocation.settles_in_full,
        ) == (4_000, interest, PAID - 4_000 - interest, 0, False)

        # --- matching credits the holder; settlement books the fee on the bid's terms ------
        # fee 12 % of 1,000.00 (base "collected") = 120.00; the provider's VAT 20 % = 24.00;
        # the platform's commission 15 % of 120.00 = 18.00, its VAT 3.60; the partner's
        # referral 20 % of the 18.00 commission = 3.60.
        booked = (
            f"SELECT count(*) FROM fee_bookings WHERE case_id = '{case_id}' "
            f"AND provider_id = '{PROVIDER}' AND partner_id = '{PARTNER}' "
            "AND fee_bp = 1200 AND amount_minor = 100000 AND percent_part = 12000 "
            "AND fee_vat = 2400 AND commission = 1800 AND commission_vat = 360 "
            "AND referral = 360 AND reversed_by IS NULL"
        )
        await eventually(
            lambda: _one_or_none(url, booked),
            "matching attributes the payment and settlement books the fee",
            within=90,
        )
        # The books: the creditor holds 1,000.00 less the fee with its VAT (144.00) = 856.00;
        # the provider is owed 144.00 less the commission with its VAT (21.60) = 122.40; the
        # partner 3.60; the platform's revenue is 18.00 and its VAT collected 3.60 only (funds
        # held for creditors stay outside the VAT base); the referral is its expense.
        assert await balance(url, f"4671/{CREDITOR}") == 85_600
        assert await balance(url, f"4011/{PROVIDER}") == 12_240
        assert await balance(url, f"4012/{PARTNER}") == 360
        assert await balance(url, "706") == 1_800
        assert await balance(url, "44571") == 360
        assert await balance(url, "6222") == -360

        # --- money out: two different operators approve, the pain.001 is valid -------------
        for kind, party, iban, bic in PAYEES:
            ref = spb.PayeeRef(party_kind=kind, party_id=party)
            await payouts.SetPayeeAccount(
                spb.SetPayeeAccountRequest(party=ref, holder=party, iban=iban, bic=bic),
                metadata=operator("alice"),
            )
            await payouts.ConfirmPayeeAccount(ref, metadata=operator("bob"))
        value_date = datetime.now(UTC).date() + timedelta(days=10)  # past the 3-day hold
        proposal = await payouts.ProposePayoutBatch(
            spb.ProposePayoutBatchRequest(value_date=value_date.isoformat()),
            metadata=operator("alice"),
        )
        assert list(proposal.skipped) == []
        paid_out = {line.party.party_id: line.amount.minor_units for line in proposal.batch.lines}
        assert paid_out == {CREDITOR: 85_600, PROVIDER: 12_240, PARTNER: 360}
        batch = spb.PayoutBatchRef(batch_id=proposal.batch.batch_id)
        await payouts.ApprovePayoutBatch(batch, metadata=operator("alice"))
        with pytest.raises(grpc.aio.AioRpcError) as twice:
            await payouts.ApprovePayoutBatch(batch, metadata=operator("alice"))
        assert twice.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "four-eyes" in (twice.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as early:
            await payouts.ReleasePayoutBatch(batch, metadata=operator("alice"))
        assert early.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        approved = await payouts.ApprovePayoutBatch(batch, metadata=operator("bob"))
        assert (approved.state, sorted(approved.approved_by)) == ("approved", ["alice", "bob"])
        released = await payouts.ReleasePayoutBatch(batch, metadata=operator("carol"))
        assert released.state == "released"
        pain = await payouts.GetPayoutFile(
            spb.GetPayoutFileRequest(batch_id=batch.batch_id, kind="pain.001"),
            metadata=operator("carol"),
        )
        xmlschema.XMLSchema(str(PAIN_001_09)).validate(pain.content.decode())
        document = pain.content.decode()
        for _, _, iban, _ in PAYEES:
            assert iban in document
        # What stays in the client-money account is the platform's: its commission with VAT
        # (21.60) less the referral (3.60) = 18.00.
        assert -(await balance(url, "5121")) == 1_800

    # --- the accountant's exports: FEC, bean-check, the ledger's own check -----------------
    closing = f"{value_date.year}1231"
    beancount = tmp_path / "ledger.beancount"
    _, _, checked_by_settlement = await asyncio.gather(
        asyncio.to_thread(
            settlement.run_command, "export-fec", "--siren", SIREN, "--closing", closing,
            "--opening", f"{value_date.year}0101", "--output", str(tmp_path),
        ),
        asyncio.to_thread(settlement.run_command, "export-beancount", "--output", str(beancount)),
        asyncio.to_thread(settlement.run_command, "check"),
    )  # fmt: skip
    assert "BROKEN" not in checked_by_settlement
    fec = read_fec(tmp_path / f"{SIREN}FEC{closing}.txt")
    assert fec.errors == []
    revenue = sum(
        Decimal(row["Credit"].replace(",", ".")) - Decimal(row["Debit"].replace(",", "."))
        for row in fec.rows
        if row["CompteNum"].startswith("706")
    )
    assert revenue == Decimal("18.00")
    checked = await asyncio.to_thread(
        subprocess.run,
        [str(BEAN_CHECK), str(beancount)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    stopped = await asyncio.gather(
        *(asyncio.to_thread(p.stop) for p in (settlement, matching, scoring, intake))
    )
    assert stopped == [0, 0, 0, 0]


async def _one_or_none(url: str, sql: str) -> int | None:
    return 1 if await count_rows(url, sql) == 1 else None
