"""Withdrawing a case: the creditor stops its collection, with a reason; nobody works it any
more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from intake.domain.case_life import WITHDRAWN
from intake.domain.commands import WithdrawCase
from intake.domain.model import CaseWithAmounts, with_amounts, withdrawal_reason
from intake.domain.tenancy import creditor_scope
from intake.service_layer.events import case_withdrawn, recorded
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.lookup import open_case
from intake.service_layer.rates import current_rates
from intake.service_layer.unit_of_work import IntakeUnitOfWork


async def withdraw_case(
    command: WithdrawCase,
    unit_of_work: Callable[[], IntakeUnitOfWork],
    today: date,
    reply: Callable[[CaseWithAmounts], bytes],
) -> Reply:
    """Withdraw an open case and announce it; the answer shows what is owed today."""
    scope = creditor_scope(command.requester, command.creditor_id)

    async def withdraw_and_reply(uow: IntakeUnitOfWork) -> bytes:
        reason = withdrawal_reason(command.reason)
        case = await open_case(command.case_id, scope, uow)
        await uow.cases.set_status(case.case_id, WITHDRAWN, reason)
        event = case_withdrawn(case)
        await uow.publish(event)
        await uow.timelines.append(recorded(event, f"case withdrawn by the creditor: {reason}"))
        withdrawn = replace(case, status=WITHDRAWN, withdrawn_reason=reason)
        return reply(with_amounts(withdrawn, today, await current_rates(uow)))

    # Keys are per creditor; a service caller's key is scoped by the case instead.
    owner = scope or f"case:{command.case_id}"
    return await once(unit_of_work, owner, "WithdrawCase", command.idempotency, withdraw_and_reply)
