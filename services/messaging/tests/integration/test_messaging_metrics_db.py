"""What /metrics reads from messaging's plan tables: messages sent, not sent and waiting per
channel (and how long the oldest has waited), and steps postponed by contact limits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import insert

from messaging.adapters.metrics_readings import messaging_readings
from messaging.adapters.plan_tables import outgoing_messages, plan_postponements
from recouvra_shared.db import Database
from recouvra_shared.unit_of_work import utcnow

pytestmark = pytest.mark.integration


def message(channel: str, status: str, minutes_ago: int) -> dict[str, object]:
    at = utcnow() - timedelta(minutes=minutes_ago)
    return {
        "message_id": str(uuid.uuid4()),
        "plan_id": str(uuid.uuid4()),
        "case_id": "case-1",
        "debtor": "debtor-1",
        "step": 1,
        "channel": channel,
        "scheduled_at": at,
        "status": status,
        "channel_reference": "",
        "reason": "",
        "attempts": 0,
        "retry_at": at,
    }


async def test_messages_per_channel_and_postponements_are_read_from_the_tables(
    make_database: Callable[[str], str],
) -> None:
    database = Database.connect(make_database("messaging"), pool_size=2)
    try:
        async with database.unit_of_work() as uow:
            await uow.session.execute(
                insert(outgoing_messages),
                [
                    message("email", "sent", 30),
                    message("email", "sent", 20),
                    message("letter", "not-sent", 10),
                    message("email", "pending", 5),
                ],
            )
            now = utcnow()
            await uow.session.execute(
                insert(plan_postponements).values(
                    plan_id=str(uuid.uuid4()),
                    case_id="case-1",
                    creditor_id="cred-1",
                    step=2,
                    wanted_at=now,
                    moved_to=now + timedelta(hours=12),
                    reasons=["quiet hours"],
                )
            )
            await uow.commit()
        readings = await messaging_readings(database)()
    finally:
        await database.dispose()
    found = {(r.name, r.labels.get("channel", "")): r.value for r in readings}
    assert found[("recouvra_messages_sent", "email")] == 2
    assert found[("recouvra_messages_not_sent", "letter")] == 1
    assert found[("recouvra_messages_pending", "email")] == 1
    assert found[("recouvra_messages_postponed", "")] == 1
    assert 4 * 60 < found[("recouvra_messages_pending_oldest_age_seconds", "")] < 10 * 60
