"""The contact plans on the real PostgreSQL: the same scenarios as the unit tests, through the
SQL repositories, the due-steps timer (FOR UPDATE SKIP LOCKED) and the debtor's advisory lock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from messaging.adapters.plan_tables import contact_plans, outgoing_messages
from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork, messaging_units
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.domain.case_contacts import MessageStatus
from messaging.domain.contact_limits import ContactLimits
from messaging.domain.outgoing import Channel, DispatchResult, MessageToSend, Tone
from messaging.domain.plans import PlanStatus, PlanStep, StopReason
from messaging.entrypoints.plan_timers import PlanTimerLoop
from messaging.service_layer import contact_settings, due_steps, plan_lifecycle
from recouvra_shared.db import Database
from recouvra_shared.errors import InvalidRequest
from services.messaging.tests.unit.fakes import RecordingDispatcher
from services.messaging.tests.unit.plan_driver import HOLIDAYS, Driver

# Seals webhook signing secrets (unused by these tests, needed by the unit of work).
TEST_BOX = WebhookSecretBox("test-key-sealing-webhook-secrets-0123456789")

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_NIGHT = datetime(2027, 7, 9, 21, 30, tzinfo=PARIS)


class SqlDriver(Driver):
    """The driver on PostgreSQL: the next timer is read from the tables."""

    def __init__(self, start: datetime, units: Callable[[], SqlMessagingUnitOfWork]) -> None:
        super().__init__(start, units)
        self.sql_units = units

    async def next_timer(self) -> datetime | None:
        async with self.sql_units() as uow:
            plans = await uow.session.scalar(select(func.min(contact_plans.c.due_at)))
            pending = await uow.session.scalar(
                select(func.min(outgoing_messages.c.retry_at)).where(
                    outgoing_messages.c.status == MessageStatus.PENDING.value
                )
            )
        return min((m for m in (plans, pending) if m is not None), default=None)


@pytest.fixture
async def units(
    make_database: Callable[[str], str],
) -> AsyncIterator[Callable[[], SqlMessagingUnitOfWork]]:
    database = Database.connect(make_database("messaging"))
    try:
        yield messaging_units(database, TEST_BOX)
    finally:
        await database.dispose()


async def test_one_debtors_three_cases_from_two_creditors_keep_the_caps_on_postgresql(
    units: Callable[[], SqlMessagingUnitOfWork],
) -> None:
    driver = SqlDriver(FRIDAY_NIGHT.astimezone(UTC), units)
    for case_id, creditor_id, holder_id in (
        ("case-1", "cred-1", "prov-1"),
        ("case-2", "cred-1", "prov-2"),
        ("case-3", "cred-2", "prov-3"),
    ):
        await driver.submitted(case_id, creditor_id, "debtor-a")
        await driver.assigned(case_id, creditor_id, holder_id)
    await driver.run_for(timedelta(days=70))

    sent = [when.astimezone(PARIS) for when, _, _ in driver.sent()]
    assert len(sent) == 12
    assert max(Counter(moment.date() for moment in sent).values()) == 1
    for moment in sent:
        assert len([o for o in sent if moment - timedelta(days=7) < o <= moment]) <= 3
        assert time(10) <= moment.time() < time(20)
        assert moment.weekday() < 5
        assert moment.date() != date(2027, 7, 14)
    async with units() as uow:
        postponed = await contact_settings.postponements_of(uow, "cred-1")
        postponed += await contact_settings.postponements_of(uow, "cred-2")
        reasons = {reason for p in postponed for reason in p.reasons}
        plans = await uow.plans.of_case("case-3")
        record = await uow.messages.get(driver.dispatcher.calls[0].message_id)
    assert "public holiday (2027-07-14)" in reasons
    assert "no contact on a saturday" in reasons
    assert [p.status for p in plans] == [PlanStatus.DONE]
    assert record is not None
    assert record.status is MessageStatus.SENT


async def test_two_replicas_firing_at_once_never_exceed_a_debtors_daily_cap(
    units: Callable[[], SqlMessagingUnitOfWork],
) -> None:
    monday = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)
    driver = SqlDriver(monday, units)
    for number in range(6):
        await driver.submitted(f"case-{number}", f"cred-{number % 2}", "debtor-a")
        await driver.assigned(f"case-{number}", f"cred-{number % 2}", "prov-1")

    async def replica() -> None:
        while await due_steps.fire_next_due(
            units, clock=driver.clock, dispatcher=driver.dispatcher, holidays=HOLIDAYS
        ):
            pass

    await asyncio.gather(replica(), replica(), replica())
    assert len(driver.sent()) == 1  # the debtor's lock serialised the three replicas
    async with units() as uow:
        postponed = await contact_settings.postponements_of(uow, "cred-0")
        postponed += await contact_settings.postponements_of(uow, "cred-1")
    assert len(postponed) == 5
    assert all("daily cap of 1 reached for this debtor" in p.reasons for p in postponed)


class SlowDispatcher:
    """The driver's dispatcher, each dispatch taking a while (a vault round trip): counts how
    many are under way at once."""

    def __init__(self, inner: RecordingDispatcher) -> None:
        self.inner = inner
        self.under_way = 0
        self.most = 0

    async def dispatch(self, message: MessageToSend) -> DispatchResult:
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        try:
            await asyncio.sleep(0.05)
            return await self.inner.dispatch(message)
        finally:
            self.under_way -= 1

    async def outcome(self, message_id: str, channel: Channel) -> DispatchResult | None:
        return await self.inner.outcome(message_id, channel)


async def test_the_timer_loops_workers_send_side_by_side_each_first_letter_once(
    units: Callable[[], SqlMessagingUnitOfWork],
) -> None:
    monday = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)
    driver = SqlDriver(monday, units)
    for number in range(12):  # twelve debtors: nothing holds one letter back for another
        await driver.submitted(f"case-{number}", "cred-1", f"debtor-{number}")
        await driver.assigned(f"case-{number}", "cred-1", "prov-1")
    slow = SlowDispatcher(driver.dispatcher)
    loop = PlanTimerLoop(units, driver.clock, slow, HOLIDAYS, poll_seconds=1, workers=4)

    assert await loop.tick() == 12
    assert await loop.tick() == 0  # nothing left due, nothing pending
    assert sorted(case for _, case, step in driver.sent() if step == 1) == sorted(
        f"case-{n}" for n in range(12)
    )
    assert len(driver.dispatcher.calls) == 12  # each handed over once, none twice
    assert slow.most > 1  # the workers overlapped
    async with units() as uow:
        statuses = await uow.session.scalars(select(outgoing_messages.c.status))
    assert Counter(statuses) == {MessageStatus.SENT.value: 12}


async def test_pause_resume_stop_rotation_and_preferences_round_trip(
    units: Callable[[], SqlMessagingUnitOfWork],
) -> None:
    driver = SqlDriver(datetime(2027, 3, 8, 10, 0, tzinfo=UTC), units)
    steps = (
        PlanStep(0, Channel.LETTER, "first_letter", Tone.REMINDER),
        PlanStep(4, Channel.EMAIL, "nudge", Tone.FIRM),
    )
    async with units() as uow:
        await contact_settings.set_plan_template(
            uow, owner_kind="creditor", owner_id="cred-1", strategy="*", steps=steps
        )
    async with units() as uow:
        await contact_settings.set_contact_limits(
            uow, creditor_id="cred-1", limits=ContactLimits(per_week=2, start_hour=11)
        )
    async with units() as uow:
        with pytest.raises(InvalidRequest):
            await contact_settings.set_contact_limits(
                uow, creditor_id="cred-1", limits=ContactLimits(end_hour=22)
            )
    async with units() as uow:
        assert await contact_settings.effective_limits(uow, "cred-1") == ContactLimits(
            per_week=2, start_hour=11
        )
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    async with units() as uow:
        contact = await contact_settings.case_for(uow, "case-1", creditor_id="cred-1")
        await contact_settings.refuse_channel(
            uow, contact=contact, channel=Channel.EMAIL, now=driver.clock.now()
        )
    async with units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=10_000, promised_on=date(2027, 3, 10)
        )
        await uow.commit()
    await driver.run_for(timedelta(days=3))
    assert [m.step for m in driver.dispatcher.calls] == [1]
    await driver.run_for(timedelta(days=5))  # promise missed on the 13th: step 2, by letter
    assert [(m.step, m.template, m.channel) for m in driver.dispatcher.calls] == [
        (1, "first_letter", Channel.LETTER),
        (2, "nudge", Channel.LETTER),
    ]
    async with units() as uow:
        await plan_lifecycle.holding_ended(
            uow, case_id="case-1", holder_id="prov-1", round=1, reason=StopReason.ROTATED
        )
        await uow.commit()
    await driver.assigned("case-1", "cred-1", "prov-2", round=2)
    await driver.run_for(timedelta(days=2))
    assert [(m.holder_id, m.step) for m in driver.dispatcher.calls][-1] == ("prov-2", 1)
    async with units() as uow:
        await plan_lifecycle.stop_case_plans(uow, "case-1", StopReason.WITHDRAWN)
        await uow.commit()
    async with units() as uow:
        plans = await uow.plans.of_case("case-1")
    assert [(p.holder_id, p.status, p.stop_reason) for p in plans] == [
        ("prov-1", PlanStatus.DONE, None),  # both its steps had gone out
        ("prov-2", PlanStatus.STOPPED, StopReason.WITHDRAWN),
    ]
