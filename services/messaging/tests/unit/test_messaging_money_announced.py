"""Money announced by settlement (pay by link) on the contact plan, through messaging's consumers
on fakes and a test clock: an announced payment holds the plan (no demand for money already paid);
the bank line arriving stops it (in full) or lets it go on (in part); an unwound announcement lets
it go on as it was, once, without a burst of skipped steps, a promise still ahead honoured again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from messaging.domain.instalments import PlanState
from messaging.domain.plans import PauseReason, PlanStatus, StopReason
from messaging.entrypoints.plan_events import PlanEventConsumers, plan_subscriptions
from messaging.service_layer import debtor_actions, plan_lifecycle
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.events.v1.settlement_events_pb2 import PaymentAnnounced, PaymentAnnouncementUnwound
from services.messaging.tests.unit.plan_driver import Driver
from services.messaging.tests.unit.test_messaging_debtor_actions import (
    THREE_MONTHS,
    _dispute,
    _live_until,
    _propose,
)

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # 11:00 in Paris
ENVELOPE = EventEnvelope(tenant_id="cred-1")


async def _started() -> tuple[Driver, PlanEventConsumers]:
    driver = Driver(MONDAY_11H)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    return driver, PlanEventConsumers(driver.clock)


async def _announced(
    driver: Driver, consumers: PlanEventConsumers, cents: int, announcement: str = "ann-1"
) -> None:
    async with driver.units() as uow:
        await consumers.on_payment_announced(
            PaymentAnnounced(
                case_id="case-1",
                announcement_id=announcement,
                amount=Money(currency="EUR", minor_units=cents),
                announced_at=driver.clock.now().isoformat(),
            ),
            ENVELOPE,
            uow,
        )
        await uow.commit()


async def _unwound(
    driver: Driver, consumers: PlanEventConsumers, cents: int, announcement: str = "ann-1"
) -> None:
    async with driver.units() as uow:
        await consumers.on_announcement_unwound(
            PaymentAnnouncementUnwound(
                case_id="case-1",
                announcement_id=announcement,
                amount=Money(currency="EUR", minor_units=cents),
                unwound_at=driver.clock.now().isoformat(),
                reason="rejected",
            ),
            ENVELOPE,
            uow,
        )
        await uow.commit()


async def _attributed(
    driver: Driver, consumers: PlanEventConsumers, cents: int, *, in_full: bool
) -> None:
    async with driver.units() as uow:
        await consumers.on_payment_attributed(
            PaymentAttributed(
                case_id="case-1",
                payment_id=f"pay-{cents}",
                amount=Money(currency="EUR", minor_units=cents),
                settles_in_full=in_full,
            ),
            ENVELOPE,
            uow,
        )
        await uow.commit()


async def _plan(driver: Driver):  # type: ignore[no-untyped-def]
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    return plan


def test_messaging_subscribes_to_both_settlement_topics_in_groups_of_its_own() -> None:
    routes = {s.topic: s.consumer for s in plan_subscriptions(PlanEventConsumers(None))}  # type: ignore[arg-type]
    assert routes["settlement.payment-announced.v1"] == "messaging-plans-payment-announced"
    assert (
        routes["settlement.payment-announcement-unwound.v1"]
        == "messaging-plans-payment-announcement-unwound"
    )


async def test_announced_money_holds_the_plan_and_the_bank_line_in_full_stops_it() -> None:
    driver, consumers = await _started()
    await _announced(driver, consumers, 120_000)
    await driver.run_for(timedelta(days=20))  # step 2 was due on day 7
    assert [step for _, _, step in driver.sent()] == [1]
    assert (await _plan(driver)).pause_reason is PauseReason.PAYMENT_ANNOUNCED
    await _attributed(driver, consumers, 120_000, in_full=True)
    await driver.run_for(timedelta(days=60))
    assert [step for _, _, step in driver.sent()] == [1]
    plan = await _plan(driver)
    assert (plan.status, plan.stop_reason) == (PlanStatus.STOPPED, StopReason.PAID)


async def test_an_unwound_announcement_resumes_the_plan_once_without_a_burst() -> None:
    driver, consumers = await _started()
    await _announced(driver, consumers, 120_000)
    await _announced(driver, consumers, 120_000)  # redelivered under another event id
    await driver.run_for(timedelta(days=10))  # step 2 was due on day 7
    assert [step for _, _, step in driver.sent()] == [1]
    await _unwound(driver, consumers, 120_000)
    await _unwound(driver, consumers, 120_000)  # told twice: released once
    await driver.run_for(timedelta(days=1))
    sent = driver.sent()
    # Step 2 (3 days late) goes now; step 3 keeps its 8 days' spacing after it, not the same day.
    assert [step for _, _, step in sent] == [1, 2]
    assert sent[1][0] == datetime(2027, 3, 18, 10, 0, tzinfo=UTC)
    await driver.run_for(timedelta(days=6))
    assert [step for _, _, step in driver.sent()] == [1, 2]
    await driver.run_for(timedelta(days=8))
    assert [step for _, _, step in driver.sent()] == [1, 2, 3]


async def test_a_partial_payment_arriving_lets_the_plan_go_on_for_the_rest() -> None:
    driver, consumers = await _started()
    await _announced(driver, consumers, 30_000)
    await driver.run_for(timedelta(days=10))
    await _attributed(driver, consumers, 30_000, in_full=False)
    await driver.run_for(timedelta(days=1))
    assert [step for _, _, step in driver.sent()] == [1, 2]
    assert (await _plan(driver)).status is PlanStatus.ACTIVE


async def test_a_promise_is_treated_as_paid_pending_and_honoured_again_after_a_rejection() -> None:
    driver, consumers = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=50_000, promised_on=date(2027, 3, 20)
        )
        await uow.commit()
    await _announced(driver, consumers, 50_000)
    assert (await _plan(driver)).pause_reason is PauseReason.PAYMENT_ANNOUNCED
    await driver.run_for(timedelta(days=2))
    await _unwound(driver, consumers, 50_000)  # rejected by the bank, the promised day ahead
    plan = await _plan(driver)
    assert (plan.pause_reason, plan.promised_minor) == (PauseReason.PROMISE, 50_000)
    await driver.run_for(timedelta(days=20))
    steps = [(when, step) for when, _, step in driver.sent()]
    assert steps == [(MONDAY_11H, 1), (datetime(2027, 3, 24, 9, 0, tzinfo=UTC), 2)]


async def test_the_promised_money_arriving_counts_towards_the_promise_once() -> None:
    driver, consumers = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=50_000, promised_on=date(2027, 3, 20)
        )
        await uow.commit()
    await _announced(driver, consumers, 50_000)
    await _attributed(driver, consumers, 50_000, in_full=False)
    plan = await _plan(driver)
    assert (plan.pause_reason, plan.paid_since_pause_minor) == (PauseReason.PROMISE, 50_000)
    assert plan_lifecycle.promise_outcome(plan) == "promise kept"


async def test_an_unwinding_seen_before_its_announcement_leaves_the_plan_running() -> None:
    driver, consumers = await _started()
    await _unwound(driver, consumers, 120_000)
    await _announced(driver, consumers, 120_000)
    assert (await _plan(driver)).status is PlanStatus.ACTIVE
    await driver.run_for(timedelta(days=8))
    assert [step for _, _, step in driver.sent()] == [1, 2]


async def test_another_pending_announcement_keeps_holding_when_one_is_unwound() -> None:
    driver, consumers = await _started()
    await _announced(driver, consumers, 30_000, "ann-1")
    await _announced(driver, consumers, 90_000, "ann-2")
    await _unwound(driver, consumers, 30_000, "ann-1")
    await driver.run_for(timedelta(days=10))
    assert [step for _, _, step in driver.sent()] == [1]
    await _unwound(driver, consumers, 90_000, "ann-2")
    await driver.run_for(timedelta(days=1))
    assert [step for _, _, step in driver.sent()] == [1, 2]


async def test_an_instalment_paid_by_link_is_not_broken_while_its_money_is_announced() -> None:
    driver, consumers = await _started()
    await _propose(driver, THREE_MONTHS)  # 300.00 on 15 March, April, May; 5 days' grace
    driver.clock.moment = datetime(2027, 3, 15, 9, 0, tzinfo=UTC)
    await _announced(driver, consumers, 30_000)  # paid by link on the day, no statement yet
    await _live_until(driver, datetime(2027, 3, 25, 12, 0, tzinfo=UTC))
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
    assert plan.state is PlanState.AGREED
    await _unwound(driver, consumers, 30_000)  # the bank rejected it after all
    await _live_until(driver, datetime(2027, 3, 27, 12, 0, tzinfo=UTC))
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
    assert plan.state is PlanState.BROKEN


async def test_a_dispute_resolved_while_money_is_announced_does_not_restart_the_demands() -> None:
    """Found when merging the case thread and pay by link: resolving a dispute resumed every
    paused plan, the one announced money holds included, so demands went out for money already
    paid by link; the unwinding then gives the plan back."""
    driver, consumers = await _started()
    dispute_id = await _dispute(driver)
    await _announced(driver, consumers, 120_000)
    async with driver.units() as uow:
        await debtor_actions.resolve_dispute(
            uow, case_id="case-1", dispute_id=dispute_id, now=driver.clock.now()
        )
    await driver.run_for(timedelta(days=20))  # step 2 was due on day 7
    assert [step for _, _, step in driver.sent()] == [1]
    assert (await _plan(driver)).pause_reason is PauseReason.PAYMENT_ANNOUNCED
    await _unwound(driver, consumers, 120_000)
    await driver.run_for(timedelta(days=2))  # unwound on a Sunday: step 2 goes on the Monday
    assert [step for _, _, step in driver.sent()] == [1, 2]
