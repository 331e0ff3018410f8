"""How cases end: exhaustions and withdrawals recorded, and each case's status derived again."""

from __future__ import annotations

from scoring.domain.commands import RecordExhaustion, RecordWithdrawal
from scoring.domain.outcomes import OPEN, Outcome
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


async def refresh_outcome(uow: ScoringUnitOfWork, case_id: str) -> Outcome:
    """Derive the case's status from everything known of it and store it if it changed."""
    case = await uow.cases.get(case_id)
    if case is None:
        return Outcome(OPEN)
    outcome = case.outcome_with(await uow.payments.totals(case_id, case.currency))
    if outcome != case.outcome:
        await uow.cases.set_outcome(case_id, outcome)
    return outcome


async def record_exhaustion(command: RecordExhaustion, uow: ScoringUnitOfWork) -> None:
    """Matching ran three rounds without full recovery: the case ended unrecovered."""
    await uow.cases.lock(command.case_id)
    remaining = None
    if command.remaining_currency and command.remaining_minor is not None:
        remaining = (command.remaining_currency, command.remaining_minor)
    await uow.cases.record_exhaustion(
        command.case_id, command.tenant_id, command.exhausted_on, remaining
    )
    await refresh_outcome(uow, command.case_id)


async def record_withdrawal(command: RecordWithdrawal, uow: ScoringUnitOfWork) -> None:
    """A withdrawn case is never scored again."""
    await uow.cases.lock(command.case_id)
    await uow.cases.record_withdrawal(command.case_id, command.tenant_id, command.withdrawn_on)
    await refresh_outcome(uow, command.case_id)
