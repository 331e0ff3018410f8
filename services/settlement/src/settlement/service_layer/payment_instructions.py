"""Payment instructions: each case's RF reference, given on first ask and kept for good."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from recouvra_shared.errors import Unavailable
from settlement.domain.payment_instructions import (
    ClientMoneyAccount,
    PaymentInstructions,
    check_may_see,
    checked_amount_due,
    checked_case_id,
    new_reference_body,
    rf_reference,
)
from settlement.domain.queries import GetPaymentInstructions
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

ATTEMPTS = 5  # a 62-bit random body collides about never; a few tries cover the impossible


def _random_body() -> str:
    return new_reference_body(secrets.randbits)


async def reference_of(
    uow: SettlementUnitOfWork, case_id: str, new_body: Callable[[], str] = _random_body
) -> str:
    """The case's reference, given now if it had none (in this unit of work, not committed)."""
    for _ in range(ATTEMPTS):
        found = await uow.references.of_case(case_id)
        if found is not None:
            return found
        candidate = rf_reference(new_body())
        if await uow.references.add(case_id, candidate):
            return candidate
    raise Unavailable(f"no free payment reference for case {case_id} after {ATTEMPTS} tries")


async def payment_instructions(
    query: GetPaymentInstructions,
    uow: SettlementUnitOfWork,
    account: ClientMoneyAccount,
    new_body: Callable[[], str] = _random_body,
) -> PaymentInstructions:
    """Where the debtor pays and under which reference; the same reference on every ask."""
    case_id = checked_case_id(query.case_id)
    creditor_of_case = None
    if query.caller_kind == "creditor":
        async with uow:
            case = await uow.cases.get(case_id)
        creditor_of_case = case.creditor_id if case is not None else None
    check_may_see(
        query.caller_kind, query.caller_subject, case_id, query.caller_tenant, creditor_of_case
    )
    amount_due = checked_amount_due(query.amount_due, query.currency)
    async with uow:
        reference = await reference_of(uow, case_id, new_body)
        await uow.commit()
    return PaymentInstructions(case_id, account, reference, amount_due)
