"""GetDebtorSiren on fakes: scoring, calling as itself, reads a case's debtor SIREN (it left the
case-submitted event, issue 12); every other caller is refused before any case is looked up."""

from __future__ import annotations

from typing import Any

import pytest

from intake.adapters.einvoice import read_in_thread
from intake.domain.commands import SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import CaseNotFound
from intake.domain.invoices import InvoiceInput
from intake.entrypoints.grpc_api import IntakeApi
from intake.service_layer.submit_case import submit_case
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated
from services.intake.tests.unit.fakes import TODAY, FakeIntakeStorage

NO_CONTEXT: Any = None
SOLE_TRADER = DebtorInput(kind="company", name="Jean Dupont EI", siren_or_siret="73282932000074")
CONSUMER = DebtorInput(kind="consumer", name="Zéphyrine Baptistin")


async def a_case(storage: FakeIntakeStorage, debtor: DebtorInput, invoice: str = "F-1") -> str:
    command = SubmitCase(
        creditor_id="creditor-a",
        debtor=debtor,
        invoices=(InvoiceInput(invoice, "2026-03-01", "2026-03-31", "EUR", "1200.00"),),
    )
    reply = await submit_case(command, storage.unit_of_work, TODAY, lambda c: c.case_id.encode())
    return reply.content.decode()


SCORING = Caller(kind="service", subject="scoring")


async def ask(
    storage: FakeIntakeStorage, case_id: str, caller: Caller | None
) -> intake_pb2.DebtorSiren:
    """The RPC as `caller`, as the server interceptor would have verified it."""
    api = IntakeApi(storage.unit_of_work, lambda: TODAY, read_in_thread)
    token = caller_var.set(caller)
    try:
        request = intake_pb2.GetDebtorSirenRequest(case_id=case_id)
        return await api.GetDebtorSiren(request, NO_CONTEXT)
    finally:
        caller_var.reset(token)


async def test_scoring_reads_the_siren_of_a_sole_trader_and_none_of_a_consumer() -> None:
    storage = FakeIntakeStorage()
    trader = await a_case(storage, SOLE_TRADER)
    person = await a_case(storage, CONSUMER, "F-2")
    answer = await ask(storage, trader, SCORING)
    assert (answer.case_id, answer.debtor_is_business, answer.siren) == (trader, True, "732829320")
    answer = await ask(storage, person, SCORING)
    assert (answer.debtor_is_business, answer.siren) == (False, "")
    with pytest.raises(CaseNotFound):
        await ask(storage, "3f1c0000-0000-4000-8000-000000000000", SCORING)


@pytest.mark.parametrize(
    "caller",
    [
        Caller(kind="service", subject=name)
        for name in ("messaging", "settlement", "matching", "gateway", "vault", "intake")
    ]
    + [
        Caller(kind="creditor", subject="u-1", tenant_id="creditor-a"),
        Caller(kind="partner", subject="p-1", tenant_id="partner-1"),
        Caller(kind="provider", subject="u-2", tenant_id="prov-1"),
        Caller(kind="operator", subject="op-1"),
        Caller(kind="debtor", subject="d-1"),
    ],
    ids=lambda c: f"{c.kind}:{c.subject}",
)
async def test_everyone_else_is_refused_even_the_cases_own_creditor(caller: Caller) -> None:
    storage = FakeIntakeStorage()
    trader = await a_case(storage, SOLE_TRADER)
    with pytest.raises(PermissionDenied) as refused:
        await ask(storage, trader, caller)
    assert [v.field for v in refused.value.violations] == ["caller"]
    assert "732829320" not in str(refused.value)
    # An unknown case is refused the same way: the refusal tells nothing about the case.
    with pytest.raises(PermissionDenied):
        await ask(storage, "3f1c0000-0000-4000-8000-000000000000", caller)


async def test_a_call_without_a_verified_caller_is_unauthenticated() -> None:
    storage = FakeIntakeStorage()
    trader = await a_case(storage, SOLE_TRADER)
    with pytest.raises(Unauthenticated):
        await ask(storage, trader, None)
