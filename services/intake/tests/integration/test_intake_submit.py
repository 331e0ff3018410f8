"""Submitting cases against a real database: validation, duplicates, idempotency, amounts."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from sqlalchemy import text

from intake.bootstrap import units_of_work
from intake.domain.commands import IdempotencyKey, Requester, SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import ConcurrentClaim
from intake.domain.invoices import InvoiceInput
from intake.domain.model import Case, new_case
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.unit_of_work import utcnow
from services.intake.tests.integration.intake_harness import (
    TODAY,
    Intake,
    company,
    invoice,
    violations,
)
from tests.support.identity import as_service

pytestmark = pytest.mark.integration

CREDITOR = "creditor-a"


async def count(intake: Intake, table: str) -> int:
    async with intake.database.engine.connect() as connection:
        return int((await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def submission(**extra: object) -> intake_pb2.SubmitCaseRequest:
    fields: dict[str, object] = {
        "idempotency_key": "k-1",
        "creditor_id": CREDITOR,
        "debtor": company(),
        "invoices": [invoice("F-2026-001", "1200.00"), invoice("F-2026-002", "300.50")],
        "notes": "Client ne répond plus depuis juin.",
    }
    fields.update(extra)
    return intake_pb2.SubmitCaseRequest(**fields)  # type: ignore[arg-type]


async def test_a_case_is_stored_announced_and_read_back_with_its_legal_amounts(
    intake: Intake,
) -> None:
    reply = await intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
    assert not reply.replayed

    case = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=reply.case_id), metadata=Intake.as_creditor(CREDITOR)
    )
    assert case.status == "submitted"
    assert case.debtor.siren_or_siret == "732829320"
    assert case.debtor.phone == "+33142685300"
    assert [i.invoice_number for i in case.invoices] == ["F-2026-001", "F-2026-002"]
    assert case.amount == Money(currency="EUR", minor_units=150_050)
    assert case.invoices[1].amount_due_decimal == "300.50"

    # On 2026-11-23, invoices due 2026-03-31, ECB 2.15% on 2026-01-01 and 2026-07-01 (+10):
    #   120000 x 0.1215 x  91/365 = 3635.01 -> 36.35 ; x 146/365 = 5832.00 -> 58.32
    #    30050 x 0.1215 x  91/365 =  910.27 ->  9.10 ; x 146/365 = 1460.43 -> 14.60
    amounts = case.legal_amounts
    interest = [line.amount.minor_units for line in amounts.lines if line.kind == "interest"]
    assert interest == [3635, 5832, 910, 1460]
    assert amounts.indemnity.minor_units == 8000
    assert amounts.total.minor_units == 150_050 + 11_837 + 8000
    assert {s.days_past_due for s in amounts.invoices} == {237}
    assert "European Central Bank" in amounts.rate_source

    assert await count(intake, "outbox") == 1
    async with intake.database.engine.connect() as connection:
        payload = (await connection.execute(text("SELECT payload FROM outbox"))).scalar_one()
    event = CaseSubmitted()
    EventEnvelope.FromString(payload).payload.Unpack(event)
    assert (event.invoice_count, event.debtor_is_business, event.amount.minor_units) == (
        2,
        True,
        150_050,
    )
    assert event.debtor_region == "FR-IDF"
    assert b"732829320" not in payload  # the SIREN stays in intake (issue 12)

    # Scoring, calling as itself, reads it over gRPC; the case's own creditor and any other
    # service may not.
    ask = intake_pb2.GetDebtorSirenRequest(case_id=reply.case_id)
    answer = await intake.stub.GetDebtorSiren(ask, metadata=as_service("intake", "scoring"))
    assert (answer.debtor_is_business, answer.siren) == (True, "732829320")
    for caller in (as_service("intake", "messaging"), Intake.as_creditor(CREDITOR)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await intake.stub.GetDebtorSiren(ask, metadata=caller)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await intake.stub.GetDebtorSiren(ask)
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    for unknown in ("3f6c1a52-8d4e-4c1b-9a57-0c2d9e1b7a10", "not-a-case-id"):
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await intake.stub.GetDebtorSiren(
                intake_pb2.GetDebtorSirenRequest(case_id=unknown),
                metadata=as_service("intake", "scoring"),
            )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_every_broken_rule_is_named_and_nothing_is_stored(intake: Intake) -> None:
    bad_debtor = company(
        siren_or_siret="732829321",
        vat_number="FR00123456789",
        email="not-an-email",
        phone="12",
        bank_account=intake_pb2.BankAccount(iban="FR7630006000011234567890188", bic="XYZ"),
        address=intake_pb2.PostalAddress(lines=["1 rue"], postal_code="7500", city="Paris"),
    )
    request = submission(
        debtor=bad_debtor,
        invoices=[
            invoice("F-1", "-5", issue_date="2026-04-01", due_date="2026-03-01"),
            invoice("F-2", "10.001", currency="USD", total_amount="5.00"),
            invoice("F-3", "10", currency="EURO"),
            invoice("X" * 101, "10", issue_date="2027-01-01"),
            invoice("F-1", "10"),
        ],
        notes="n" * 4001,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(request, metadata=Intake.as_creditor(CREDITOR))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    found = violations(refused.value)
    assert "check digit" in found["debtor.siren_or_siret"]
    assert "debtor.vat_number" in found
    assert "e-mail" in found["debtor.email"]
    assert "phone" in found["debtor.phone"]
    assert "IBAN" in found["debtor.bank_account.iban"]
    assert "BIC" in found["debtor.bank_account.bic"]
    assert found["debtor.address.postal_code"] == "must be 5 digits in France"
    assert found["invoices[0].due_date"] == "must not be before issue_date"
    assert found["invoices[0].amount_due"] == "must be positive"
    assert found["invoices[1].currency"] == "must be EUR, the currency of invoices[0]"
    assert "ISO 4217" in found["invoices[2].currency"]
    assert found["invoices[3].invoice_number"] == "must be at most 100 characters"
    assert found["invoices[3].issue_date"].startswith("must not be in the future")
    assert found["invoices[4].invoice_number"] == "repeats invoices[0] in this case"
    assert found["notes"] == "must be at most 4000 characters"
    assert refused.value.details() is not None
    assert "debtor.email" in refused.value.details()
    assert await count(intake, "cases") == 0
    assert await count(intake, "outbox") == 0
    assert await count(intake, "idempotency_keys") == 0


@pytest.mark.parametrize(
    ("amount", "currency", "rule"),
    [
        ("1500", "JPY", None),
        ("1500.5", "JPY", "must have at most 0 decimals for JPY"),
        ("12.345", "KWD", None),
        ("12.34", "EUR", None),
        ("12.345", "EUR", "must have at most 2 decimals for EUR"),
        ("1e3", "EUR", 'must be a decimal number such as "1234.56"'),
        ("0", "EUR", "must be positive"),
        ("1000000001", "EUR", "must be at most 1,000,000,000"),
    ],
)
async def test_amounts_follow_the_currency_minor_unit(
    intake: Intake, amount: str, currency: str, rule: str | None
) -> None:
    request = submission(invoices=[invoice("F-9", amount, currency=currency)])
    if rule is None:
        reply = await intake.stub.SubmitCase(request, metadata=Intake.as_creditor(CREDITOR))
        case = await intake.stub.GetCase(
            intake_pb2.GetCaseRequest(case_id=reply.case_id), metadata=Intake.as_creditor(CREDITOR)
        )
        assert case.invoices[0].amount_due_decimal == amount
        return
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(request, metadata=Intake.as_creditor(CREDITOR))
    assert violations(refused.value) == {"invoices[0].amount_due": rule}


async def test_prescribed_claims_are_refused_with_the_date_they_prescribed(intake: Intake) -> None:
    consumer = intake_pb2.Debtor(kind=intake_pb2.Debtor.CONSUMER, name="Jean Dupont")
    old = submission(
        debtor=consumer,
        invoices=[invoice("C-1", "80", issue_date="2024-11-01", due_date="2024-11-22")],
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(old, metadata=Intake.as_creditor(CREDITOR))
    rule = violations(refused.value)["invoices[0].due_date"]
    assert "prescribed" in rule
    assert "2026-11-22" in rule
    assert "2-year" in rule

    # The same date is still within the 5-year commercial prescription for a company...
    fine = submission(
        idempotency_key="k-2",
        invoices=[invoice("C-1", "80", issue_date="2024-11-01", due_date="2024-11-22")],
    )
    await intake.stub.SubmitCase(fine, metadata=Intake.as_creditor(CREDITOR))
    # ...but not five years and a day later.
    stale = submission(
        idempotency_key="k-3",
        invoices=[invoice("C-2", "80", issue_date="2021-11-01", due_date="2021-11-22")],
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(stale, metadata=Intake.as_creditor(CREDITOR))
    assert (
        "until 2026-11-22 (5-year commercial prescription)"
        in (violations(refused.value)["invoices[0].due_date"])
    )


async def test_consumer_debtors_carry_no_company_identifiers(intake: Intake) -> None:
    request = submission(
        debtor=intake_pb2.Debtor(
            kind=intake_pb2.Debtor.CONSUMER, name="Jean Dupont", siren_or_siret="732829320"
        )
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(request, metadata=Intake.as_creditor(CREDITOR))
    assert violations(refused.value) == {"debtor.siren_or_siret": "is only for a company debtor"}
    consumer = submission(
        debtor=intake_pb2.Debtor(kind=intake_pb2.Debtor.CONSUMER, name="Jean Dupont")
    )
    reply = await intake.stub.SubmitCase(consumer, metadata=Intake.as_creditor(CREDITOR))
    answer = await intake.stub.GetDebtorSiren(
        intake_pb2.GetDebtorSirenRequest(case_id=reply.case_id),
        metadata=as_service("intake", "scoring"),
    )
    assert (answer.debtor_is_business, answer.siren) == (False, "")


async def test_a_replay_returns_the_first_answer_and_a_changed_replay_is_refused(
    intake: Intake,
) -> None:
    first = await intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
    again = await intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
    assert again.case_id == first.case_id
    assert again.replayed

    changed = submission(invoices=[invoice("F-2026-001", "1300.00")])
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(changed, metadata=Intake.as_creditor(CREDITOR))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert "idempotency_key" in violations(refused.value)
    assert await count(intake, "cases") == 1
    assert await count(intake, "outbox") == 1


async def test_the_same_invoice_for_the_same_debtor_is_a_duplicate(intake: Intake) -> None:
    await intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
    # Same SIREN, name spelt differently, new key: still the same debtor.
    renamed = submission(
        idempotency_key="k-other",
        debtor=company("BOULANGERIE MARTIN"),
        invoices=[invoice("F-2026-003"), invoice("F-2026-002")],
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.SubmitCase(renamed, metadata=Intake.as_creditor(CREDITOR))
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert violations(refused.value) == {
        "invoices[1].invoice_number": "F-2026-002 was already submitted for this debtor"
    }
    # The same number is fine for another debtor, and for another creditor.
    other_debtor = submission(
        idempotency_key="k-x",
        debtor=company("Autre SAS", siren_or_siret="", vat_number=""),
    )
    await intake.stub.SubmitCase(other_debtor, metadata=Intake.as_creditor(CREDITOR))
    other_creditor = submission(creditor_id="creditor-b")
    await intake.stub.SubmitCase(other_creditor, metadata=Intake.as_creditor("creditor-b"))
    assert await count(intake, "cases") == 3


async def test_the_deprecated_single_invoice_form_still_works(intake: Intake) -> None:
    legacy = intake_pb2.SubmitCaseRequest(
        idempotency_key="legacy-1",
        creditor_id=CREDITOR,
        debtor_name="Debtor 1 SARL",
        debtor_is_business=True,
        invoice_number="F-2026-00001",
        amount=Money(currency="EUR", minor_units=10_137),
        issue_date="2026-01-02",
        due_date="2026-02-01",
    )
    me = Intake.as_creditor(CREDITOR)
    reply = await intake.stub.SubmitCase(legacy, metadata=me)
    case = await intake.stub.GetCase(intake_pb2.GetCaseRequest(case_id=reply.case_id), metadata=me)
    assert case.amount.minor_units == 10_137
    assert case.debtor.kind == intake_pb2.Debtor.COMPANY
    assert case.legal_amounts.indemnity.minor_units == 4000


async def test_concurrent_replays_of_one_key_make_one_case(intake: Intake) -> None:
    replies = await asyncio.gather(
        *(
            intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
            for _ in range(6)
        )
    )
    assert len({r.case_id for r in replies}) == 1
    assert sum(not r.replayed for r in replies) == 1
    assert await count(intake, "cases") == 1
    assert await count(intake, "outbox") == 1


async def test_amounts_can_be_computed_at_another_date(intake: Intake) -> None:
    reply = await intake.stub.SubmitCase(submission(), metadata=Intake.as_creditor(CREDITOR))
    on_due_date = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=reply.case_id, as_of="2026-03-31"),
        metadata=Intake.as_creditor(CREDITOR),
    )
    assert on_due_date.legal_amounts.as_of == "2026-03-31"
    assert on_due_date.legal_amounts.total.minor_units == 150_050
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await intake.stub.GetCase(
            intake_pb2.GetCaseRequest(case_id=reply.case_id, as_of="31/03/2026"),
            metadata=Intake.as_creditor(CREDITOR),
        )
    assert violations(refused.value) == {"as_of": "must be an ISO 8601 date (YYYY-MM-DD)"}


async def test_submissions_arriving_together_each_get_their_own_answer(intake: Intake) -> None:
    """Calls in flight at once are recorded in shared transactions: every one still gets what
    it would alone, across creditors, with a key's replay and an invoice's duplicate among them."""
    as_a, as_b = Intake.as_creditor(CREDITOR), Intake.as_creditor("creditor-b")
    calls = [
        *(
            intake.stub.SubmitCase(
                submission(idempotency_key=f"k-{n}", invoices=[invoice(f"T-{n}")]), metadata=as_a
            )
            for n in range(10)
        ),
        # creditor-b's T-0 to T-4 are its own.
        *(
            intake.stub.SubmitCase(
                submission(
                    creditor_id="creditor-b", idempotency_key=f"k-{n}", invoices=[invoice(f"T-{n}")]
                ),
                metadata=as_b,
            )
            for n in range(5)
        ),
        # The same key and content again: the same case.
        intake.stub.SubmitCase(
            submission(idempotency_key="k-3", invoices=[invoice("T-3")]), metadata=as_a
        ),
        # Another key claiming T-7 of the same debtor: a duplicate.
        intake.stub.SubmitCase(
            submission(idempotency_key="k-dup", invoices=[invoice("T-99"), invoice("T-7")]),
            metadata=as_a,
        ),
    ]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    # Which of two calls racing on one key, or on one invoice, came first is the order they
    # reached the server in: the first makes the case, the other is its replay or duplicate.
    first, again = answers[3], answers[15]
    assert isinstance(first, intake_pb2.SubmitCaseResponse)
    assert isinstance(again, intake_pb2.SubmitCaseResponse)
    assert first.case_id == again.case_id
    assert sorted([first.replayed, again.replayed]) == [False, True]
    made, refused = sorted([answers[7], answers[16]], key=lambda a: isinstance(a, Exception))
    assert isinstance(made, intake_pb2.SubmitCaseResponse)
    assert isinstance(refused, grpc.aio.AioRpcError)
    assert refused.code() == grpc.StatusCode.ALREADY_EXISTS
    assert list(violations(refused).values()) == ["T-7 was already submitted for this debtor"]
    created = [a for n, a in enumerate(answers) if n not in (7, 15, 16)] + [made]
    assert all(isinstance(a, intake_pb2.SubmitCaseResponse) for a in created), created
    assert len({a.case_id for a in created}) == 15
    for table in ("cases", "outbox", "timeline", "idempotency_keys"):
        assert await count(intake, table) == 15, table
    case = await intake.stub.GetCase(
        intake_pb2.GetCaseRequest(case_id=answers[12].case_id), metadata=as_b
    )
    assert [i.invoice_number for i in case.invoices] == ["T-2"]


def new_company_case(*numbers: str) -> Case:
    command = SubmitCase(
        creditor_id=CREDITOR,
        debtor=DebtorInput(kind="company", name="ACME SAS", siren_or_siret="552032534"),
        invoices=tuple(
            InvoiceInput(n, "2026-01-01", "2026-01-31", "EUR", "100.00") for n in numbers
        ),
        requester=Requester("creditor", CREDITOR),
        idempotency=IdempotencyKey("", b""),
    )
    return new_case(command, TODAY, utcnow())


async def test_two_transactions_claiming_invoices_in_crossed_orders_wait_instead_of_deadlocking(
    intake: Intake,
) -> None:
    """An import holding X-1 (a batch written, its next to come) and a batch of submissions
    claiming X-2 and X-1: the batch claims X-1 first, so it waits without holding X-2, which the
    import then claims; the import commits and the batch is told it lost the race."""
    units = units_of_work(intake.database)
    async with units() as importing:
        await importing.cases.add(new_company_case("X-1"))
        waiting = asyncio.Event()

        async def submissions() -> None:
            async with units() as uow:
                waiting.set()
                await uow.cases.add(new_company_case("X-2", "X-1"))
                await uow.commit()

        batch = asyncio.create_task(submissions())
        await waiting.wait()
        await asyncio.sleep(0.3)  # the batch is waiting on X-1
        await importing.cases.add(new_company_case("X-2"))
        await importing.commit()
    with pytest.raises(ConcurrentClaim):
        await batch
    assert await count(intake, "invoice_lines") == 2
