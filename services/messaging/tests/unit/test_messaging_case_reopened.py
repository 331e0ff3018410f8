"""A bank reversal reopens a case closed by a full payment (matching.case-reopened): back with
its holder, the holding's plan goes on from the step after the last one sent, once, whatever
money announcement or payment in full had stopped it; a dispute still holds it; rotating, nothing
goes on until the next assignment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from messaging.domain.holdings import Holding
from messaging.domain.plans import PauseReason, PlanStatus
from messaging.entrypoints.plan_events import PlanEventConsumers, plan_subscriptions
from messaging.service_layer import plan_lifecycle
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseClosed, CaseReopened
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.events.v1.settlement_events_pb2 import PaymentAnnounced
from services.messaging.tests.unit.plan_driver import Driver

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # 11:00 in Paris
ENVELOPE = EventEnvelope(tenant_id="cred-1")


async def _paid_in_full_after_two_steps(
    *, disputed: bool = False
) -> tuple[Driver, PlanEventConsumers]:
    """prov-1's plan sent steps 1 (day 0) and 2 (day 7); on day 10 the case is paid and closed
    (a dispute holding the plan first, when `disputed`)."""
    driver = Driver(MONDAY_11H)
    consumers = PlanEventConsumers(driver.clock)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    async with driver.units() as uow:
        await consumers.on_case_assigned(
            CaseAssigned(case_id="case-1", provider_id="prov-1", round=1), ENVELOPE, uow
        )
        await uow.commit()
    await driver.run_for(timedelta(days=10))
    if disputed:
        async with driver.units() as uow:
            await plan_lifecycle.pause_case_plans(uow, "case-1", PauseReason.DISPUTE)
            await uow.commit()
    await _paid(driver, consumers)
    return driver, consumers


async def _paid(driver: Driver, consumers: PlanEventConsumers) -> None:
    async with driver.units() as uow:
        await consumers.on_payment_attributed(
            PaymentAttributed(
                case_id="case-1",
                payment_id="pay-1",
                amount=Money(currency="EUR", minor_units=120_000),
                settles_in_full=True,
            ),
            ENVELOPE,
            uow,
        )
        await consumers.on_case_closed(CaseClosed(case_id="case-1"), ENVELOPE, uow)
        await uow.commit()


async def _reopened(driver: Driver, consumers: PlanEventConsumers, provider: str) -> None:
    async with driver.units() as uow:
        await consumers.on_case_reopened(
            CaseReopened(case_id="case-1", provider_id=provider, round=1), ENVELOPE, uow
        )
        await uow.commit()


async def _holder(driver: Driver) -> Holding | None:
    async with driver.units() as uow:
        return await uow.holders.current("case-1")


def _steps(driver: Driver) -> list[int]:
    return [step for _, _, step in driver.sent()]


def test_messaging_follows_case_reopened_in_a_consumer_group_of_its_own() -> None:
    routes = {s.topic: s.consumer for s in plan_subscriptions(PlanEventConsumers(None))}  # type: ignore[arg-type]
    assert routes["matching.case-reopened.v1"] == "messaging-plans-case-reopened"


async def test_reopened_to_its_holder_the_plan_goes_on_from_the_next_step_once() -> None:
    driver, consumers = await _paid_in_full_after_two_steps()
    await driver.run_for(timedelta(days=10))
    assert _steps(driver) == [1, 2]  # paid: nothing more
    assert await _holder(driver) is None

    await _reopened(driver, consumers, "prov-1")  # on Easter Sunday 2027
    await _reopened(driver, consumers, "prov-1")  # the same fact again (a redelivery)
    assert await _holder(driver) == Holding("case-1", "prov-1", 1)
    await driver.run_for(timedelta(days=3))
    # Step 3 (day 15) was due: it goes alone, not on a Sunday nor on Easter Monday.
    assert _steps(driver) == [1, 2, 3]
    assert driver.sent()[-1][0].date() == date(2027, 3, 30)
    await _reopened(driver, consumers, "prov-1")  # once more, after step 3 went: no resend
    await driver.run_for(datetime(2027, 4, 11, 10, tzinfo=UTC) - driver.clock.now())
    assert _steps(driver) == [1, 2, 3]
    await driver.run_for(timedelta(days=2))
    assert _steps(driver) == [1, 2, 3, 4]
    # As after a pause, the later steps keep their spacing from the reopening: 15 days on.
    assert driver.sent()[-1][0].date() == date(2027, 4, 12)


async def test_reopened_while_rotating_nothing_goes_on_until_the_next_assignment() -> None:
    driver, consumers = await _paid_in_full_after_two_steps()
    await _reopened(driver, consumers, "")
    await driver.run_for(timedelta(days=60))
    assert _steps(driver) == [1, 2]
    assert await _holder(driver) is None
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert plan.status is PlanStatus.STOPPED


async def test_a_pending_money_announcement_does_not_hold_the_reopened_plan() -> None:
    driver = Driver(MONDAY_11H)
    consumers = PlanEventConsumers(driver.clock)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.run_for(timedelta(days=8))
    async with driver.units() as uow:  # paid by link: announced, then the bank pays in full
        await consumers.on_payment_announced(
            PaymentAnnounced(
                case_id="case-1",
                announcement_id="ann-1",
                amount=Money(currency="EUR", minor_units=50_000),
                announced_at=driver.clock.now().isoformat(),
            ),
            ENVELOPE,
            uow,
        )
        await uow.commit()
    await _paid(driver, consumers)  # another amount: ann-1 is still pending
    await _reopened(driver, consumers, "prov-1")
    await driver.run_for(timedelta(days=8))
    assert _steps(driver) == [1, 2, 3]
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert (plan.status, plan.pause_reason) == (PlanStatus.ACTIVE, None)


async def test_a_dispute_open_when_the_case_was_paid_still_holds_the_reopened_plan() -> None:
    driver, consumers = await _paid_in_full_after_two_steps(disputed=True)
    await _reopened(driver, consumers, "prov-1")
    await driver.run_for(timedelta(days=30))
    assert _steps(driver) == [1, 2]
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert (plan.status, plan.pause_reason) == (PlanStatus.PAUSED, PauseReason.DISPUTE)
