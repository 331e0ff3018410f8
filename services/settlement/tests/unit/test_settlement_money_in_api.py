"""The money-in RPCs and intake's case facts, on the fakes: operators only; cases as sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, InvoiceTerms
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied
from services.settlement.tests.unit.camt_files import Entry, camt053, camt054
from services.settlement.tests.unit.money_in_world import CASE_A, REF_A, World, two_invoice_case
from settlement.domain.payment_instructions import client_money_account
from settlement.entrypoints import case_consumers
from settlement.entrypoints.grpc_api import SettlementApi

ACCOUNT = client_money_account(
    "Recouvra SAS - fonds de tiers", "FR7630006000011234567890189", "AGRIFRPP"
)
CONTEXT: Any = None


@pytest.fixture
def caller(request: pytest.FixtureRequest) -> Iterator[None]:
    token = caller_var.set(Caller(kind=request.param, subject="someone", tenant_id="cred-1"))
    yield
    caller_var.reset(token)


@pytest.mark.parametrize("caller", ["operator"], indirect=True)
async def test_an_operator_imports_a_statement_and_works_the_suspense_queue(caller: None) -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    api = SettlementApi(world.uow, ACCOUNT)
    content = camt053([Entry(30_000, reference=REF_A), Entry(999, debtor_name="Who Ever")])
    reply = await api.ImportStatement(
        settlement_pb2.ImportStatementRequest(content=content), CONTEXT
    )
    (imported,) = reply.statements
    assert (imported.lines, imported.matched_by_reference, imported.suspense) == (2, 1, 1)
    (item,) = (await api.ListSuspense(settlement_pb2.ListSuspenseRequest(), CONTEXT)).items
    assert (item.amount.minor_units, item.debtor_name) == (999, "Who Ever")
    refunded = await api.RefundSuspense(
        settlement_pb2.RefundSuspenseRequest(receipt_id=item.receipt_id), CONTEXT
    )
    assert refunded.status == "refund_due"


@pytest.mark.parametrize("caller", ["operator"], indirect=True)
async def test_an_operator_imports_a_notification_then_its_statement_books_nothing_more(
    caller: None,
) -> None:
    world = World()
    world.knows(two_invoice_case(), REF_A)
    api = SettlementApi(world.uow, ACCOUNT)
    paid = Entry(30_000, reference=REF_A, end_to_end_id="E2E-1", servicer_ref="N-1")
    notified = await api.ImportStatement(
        settlement_pb2.ImportStatementRequest(content=camt054([paid])), CONTEXT
    )
    (notification,) = notified.statements
    assert notification.statement_id == "ntfctn:NTF-2026-03-02-0001"
    assert (notification.matched_by_reference, notification.already_booked) == (1, 0)
    stated = await api.ImportStatement(
        settlement_pb2.ImportStatementRequest(content=camt053([paid])), CONTEXT
    )
    (statement,) = stated.statements
    assert (statement.matched_by_reference, statement.already_booked) == (0, 1)
    assert await world.balance("5121") == 30_000


@pytest.mark.parametrize("caller", ["creditor", "provider", "service", "debtor"], indirect=True)
async def test_nobody_but_an_operator_imports_or_sees_suspense(caller: None) -> None:
    api = SettlementApi(World().uow, ACCOUNT)
    with pytest.raises(PermissionDenied):
        await api.ImportStatement(settlement_pb2.ImportStatementRequest(content=b""), CONTEXT)
    with pytest.raises(PermissionDenied):
        await api.ListSuspense(settlement_pb2.ListSuspenseRequest(), CONTEXT)
    with pytest.raises(PermissionDenied):
        await api.AssignSuspense(
            settlement_pb2.AssignSuspenseRequest(receipt_id="x", case_id=CASE_A), CONTEXT
        )


async def test_a_submitted_case_is_known_with_its_creditor_and_invoice_terms() -> None:
    world = World()
    event = CaseSubmitted(
        case_id=CASE_A,
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=150_000),
        issue_date="2026-01-01",
        due_date="2026-01-31",
        invoices=[
            InvoiceTerms(
                principal=Money(currency="EUR", minor_units=100_000),
                issue_date="2026-01-01",
                due_date="2026-01-31",
            ),
            InvoiceTerms(
                principal=Money(currency="EUR", minor_units=50_000),
                issue_date="2026-01-15",
                due_date="2026-02-14",
            ),
        ],
    )
    async with world.uow() as uow:
        await case_consumers.on_case_submitted(event, EventEnvelope(tenant_id="cred-1"), uow)
        await uow.commit()
    known = world.tables.cases[CASE_A]
    assert known.creditor_id == "cred-1"
    assert sorted(i.principal_minor for i in known.invoices) == [50_000, 100_000]
    assert set(known.invoices) == set(two_invoice_case().invoices)

    async with world.uow() as uow:
        await case_consumers.on_case_withdrawn(
            CaseWithdrawn(case_id=CASE_A), EventEnvelope(tenant_id="cred-1"), uow
        )
        await uow.commit()
    assert world.tables.cases[CASE_A].withdrawn


async def test_a_case_without_invoice_terms_yet_is_one_invoice_of_its_amount() -> None:
    world = World()
    event = CaseSubmitted(
        case_id=CASE_A,
        amount=Money(currency="EUR", minor_units=42_000),
        issue_date="2026-01-01",
        due_date="2026-01-31",
    )
    async with world.uow() as uow:
        await case_consumers.on_case_submitted(event, EventEnvelope(tenant_id="cred-9"), uow)
        await uow.commit()
    (invoice,) = world.tables.cases[CASE_A].invoices
    assert invoice.principal_minor == 42_000
