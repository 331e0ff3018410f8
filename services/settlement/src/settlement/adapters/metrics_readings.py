"""Settlement's business readings for /metrics: payouts waiting for approval or release and
since when, and how long creditors' money has been held (R124-6: at most one month)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from recouvra_shared.db import Database
from recouvra_shared.metrics.readings import Reading, ReadingSource, age_seconds
from recouvra_shared.unit_of_work import utcnow
from settlement.adapters.orm import payout_batches, payout_lines
from settlement.domain.payouts import BatchState
from settlement.service_layer.held_funds import held_funds_on
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

WAITING = (BatchState.PROPOSED.value, BatchState.APPROVED.value)


def settlement_readings(
    database: Database, units: Callable[[], SettlementUnitOfWork], warning_days: int
) -> ReadingSource:
    """Pending payout batches from the payout tables; held funds by the R124-6 rule itself."""

    async def read() -> list[Reading]:
        async with database.unit_of_work() as uow:
            batches, oldest = (
                await uow.session.execute(
                    select(func.count(), func.min(payout_batches.c.proposed_at)).where(
                        payout_batches.c.state.in_(WAITING)
                    )
                )
            ).one()
            amount = await uow.session.scalar(
                select(func.coalesce(func.sum(payout_lines.c.amount), 0))
                .select_from(payout_lines.join(payout_batches))
                .where(payout_batches.c.state.in_(WAITING))
            )
        held = await held_funds_on(units(), utcnow().date())
        return [
            Reading(
                "recouvra_payouts_pending_batches",
                "Payout batches proposed or approved, not released yet.",
                float(batches),
            ),
            Reading(
                "recouvra_payouts_pending_oldest_age_seconds",
                "Age of the oldest payout batch not released yet (0 when none waits).",
                age_seconds(oldest),
            ),
            Reading(
                "recouvra_payouts_pending_amount_minor",
                "Money in payout batches not released yet, in minor units.",
                float(amount or 0),
            ),
            Reading(
                "recouvra_creditor_funds_held_minor",
                "Creditors' money held on the client-money account, in minor units.",
                float(sum(h.held for h in held)),
            ),
            Reading(
                "recouvra_creditor_funds_oldest_held_days",
                "Days the oldest unpaid creditor receipt has waited (R124-6: one month at most).",
                float(max((h.age_days for h in held), default=0)),
            ),
            Reading(
                "recouvra_creditor_funds_held_warning_days",
                "Age at which held funds call for a payout (settings: held_funds_warning_days).",
                float(warning_days),
            ),
            Reading(
                "recouvra_creditors_with_funds_overdue",
                "Creditors whose oldest unpaid receipt is at least the warning age.",
                float(sum(1 for h in held if h.overdue(warning_days))),
            ),
        ]

    return read
