"""Messaging's business readings for /metrics: messages sent, not sent and waiting, per channel,
and the steps postponed by contact limits (recouvra_shared.metrics.readings)."""

from __future__ import annotations

from sqlalchemy import func, select

from messaging.adapters.plan_tables import outgoing_messages, plan_postponements
from messaging.domain.case_contacts import MessageStatus
from recouvra_shared.db import Database
from recouvra_shared.metrics.readings import Reading, ReadingSource, age_seconds

METRIC_OF_STATUS = {
    MessageStatus.SENT.value: "recouvra_messages_sent",
    MessageStatus.NOT_SENT.value: "recouvra_messages_not_sent",
    MessageStatus.PENDING.value: "recouvra_messages_pending",
}


def messaging_readings(database: Database) -> ReadingSource:
    """Counts read from the plan tables, the record of every message and postponement."""

    async def read() -> list[Reading]:
        async with database.unit_of_work() as uow:
            per_status = (
                await uow.session.execute(
                    select(
                        outgoing_messages.c.channel, outgoing_messages.c.status, func.count()
                    ).group_by(outgoing_messages.c.channel, outgoing_messages.c.status)
                )
            ).all()
            oldest_pending = await uow.session.scalar(
                select(func.min(outgoing_messages.c.scheduled_at)).where(
                    outgoing_messages.c.status == MessageStatus.PENDING.value
                )
            )
            postponed = await uow.session.scalar(
                select(func.count()).select_from(plan_postponements)
            )
        readings = [
            Reading(
                METRIC_OF_STATUS[status],
                f"Debtor messages {status} (pending: not sent yet), per channel.",
                float(count),
                {"channel": channel},
                "gauge" if status == MessageStatus.PENDING.value else "counter",
            )
            for channel, status, count in per_status
            if status in METRIC_OF_STATUS
        ]
        readings += [
            Reading(
                "recouvra_messages_pending_oldest_age_seconds",
                "Age of the oldest debtor message not sent yet (0 when none waits).",
                age_seconds(oldest_pending),
            ),
            Reading(
                "recouvra_messages_postponed",
                "Plan steps postponed by a contact limit (quiet hours, weekly cap, holidays).",
                float(postponed or 0),
                kind="counter",
            ),
        ]
        return readings

    return read
