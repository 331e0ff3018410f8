"""Declaring a direct payment: the debtor paid the creditor, in part (the amounts owed shrink) or
in full (the case closes as paid directly)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from intake.domain.case_life import PAID_DIRECTLY
from intake.domain.commands import DeclarePayment
from intake.domain.model import CaseWithAmounts, declared_payment, with_amounts
from intake.domain.tenancy import creditor_scope
from intake.service_layer.events import payment_declared, recorded
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.lookup import open_case
from intake.service_layer.rates import current_rates
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.legal.money import format_amount
from recouvra_shared.unit_of_work import utcnow


async def declare_payment(
    command: DeclarePayment,
    unit_of_work: Callable[[], IntakeUnitOfWork],
    today: date,
    reply: Callable[[CaseWithAmounts], bytes],
) -> Reply:
    """Record a direct payment on an open case and announce it; the answer shows what is still
    owed today."""
    scope = creditor_scope(command.requester, command.creditor_id)

    async def declare_and_reply(uow: IntakeUnitOfWork) -> bytes:
        case = await open_case(command.case_id, scope, uow)
        payment = replace(
            declared_payment(
                case,
                command.amount,
                command.currency,
                command.paid_on,
                command.settles_in_full,
                today,
            ),
            declared_at=utcnow(),
        )
        await uow.cases.add_payment(case.case_id, payment)
        status = PAID_DIRECTLY if payment.settles_in_full else case.status
        if payment.settles_in_full:
            await uow.cases.set_status(case.case_id, PAID_DIRECTLY)
        event = payment_declared(case, payment)
        await uow.publish(event)
        paid = format_amount(payment.amount_minor, case.currency)
        summary = (
            f"the creditor declared a direct payment of {paid} {case.currency} on "
            f"{payment.paid_on}"
            + (", settling the case in full" if payment.settles_in_full else "")
        )
        await uow.timelines.append(recorded(event, summary))
        declared = replace(case, status=status, payments=(*case.payments, payment))
        return reply(with_amounts(declared, today, await current_rates(uow)))

    # Keys are per creditor; a service caller's key is scoped by the case instead.
    owner = scope or f"case:{command.case_id}"
    return await once(unit_of_work, owner, "DeclarePayment", command.idempotency, declare_and_reply)
