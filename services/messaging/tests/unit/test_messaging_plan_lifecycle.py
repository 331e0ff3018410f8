"""A holding's plan on a test clock: its first letter at once, later steps at their offsets;
paused by a promise, a dispute or an instalment plan; resumed when a promise is missed; stopped
by payment, withdrawal, recall, exhaustion or closing; a rotation starts the new holder's own
plan at step 1; a message is recorded pending before the Dispatcher and sent once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from messaging.domain.case_contacts import MessageStatus
from messaging.domain.plans import PauseReason, PlanStatus, StopReason
from messaging.service_layer import due_steps, plan_lifecycle
from services.messaging.tests.unit.plan_driver import HOLIDAYS, Driver

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # 11:00 in Paris


async def _started() -> Driver:
    driver = Driver(MONDAY_11H)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    return driver


async def test_the_first_letter_goes_at_once_and_later_steps_at_their_offsets() -> None:
    driver = await _started()
    await driver.run_for(timedelta(days=40))
    messages = {m.step: m for m in driver.dispatcher.calls}
    assert [(when.date(), step) for when, _, step in driver.sent()] == [
        (date(2027, 3, 8), 1),
        (date(2027, 3, 15), 2),
        (date(2027, 3, 23), 3),
        (date(2027, 4, 7), 4),
    ]
    assert messages[1].template == "first_letter"
    assert messages[1].first_sent_on is None
    assert messages[4].template == "formal_notice"
    assert messages[2].first_sent_on == MONDAY_11H  # later steps cite the first letter's date
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert plan.status is PlanStatus.DONE


async def test_a_promise_pauses_the_plan_and_a_missed_promise_resumes_it() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=50_000, promised_on=date(2027, 3, 20)
        )
        await uow.commit()
    await driver.run_for(timedelta(days=20))
    steps = [(when, step) for when, _, step in driver.sent()]
    # Nothing while the promise ran (20 March + 3 days' grace); step 2 on the 24th at 10:00.
    assert steps == [(MONDAY_11H, 1), (datetime(2027, 3, 24, 9, 0, tzinfo=UTC), 2)]


async def test_a_promise_kept_in_part_resumes_the_plan_for_the_rest() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=50_000, promised_on=date(2027, 3, 20)
        )
        await plan_lifecycle.payment_attributed(
            uow, case_id="case-1", amount_minor=50_000, settles_in_full=False
        )
        await uow.commit()
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert plan_lifecycle.promise_outcome(plan) == "promise kept"
    await driver.run_for(timedelta(days=20))
    assert [step for _, _, step in driver.sent()] == [1, 2]


async def test_a_full_payment_stops_the_plan_even_while_paused() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.promise_made(
            uow, case_id="case-1", promised_minor=50_000, promised_on=date(2027, 3, 20)
        )
        await plan_lifecycle.payment_attributed(
            uow, case_id="case-1", amount_minor=120_000, settles_in_full=True
        )
        await uow.commit()
    await driver.run_for(timedelta(days=60))
    assert [step for _, _, step in driver.sent()] == [1]
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case("case-1")
    assert (plan.status, plan.stop_reason) == (PlanStatus.STOPPED, StopReason.PAID)


@pytest.mark.parametrize("reason", [PauseReason.DISPUTE, PauseReason.INSTALMENT_PLAN])
async def test_a_dispute_or_instalment_plan_holds_the_plan_until_resumed(
    reason: PauseReason,
) -> None:
    driver = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.pause_case_plans(uow, "case-1", reason)
        await uow.commit()
    await driver.run_for(timedelta(days=30))
    assert [step for _, _, step in driver.sent()] == [1]
    async with driver.units() as uow:
        await plan_lifecycle.resume_case_plans(uow, "case-1", driver.clock.now())
        await uow.commit()
    await driver.run_for(timedelta(days=1))
    assert [step for _, _, step in driver.sent()] == [1, 2]  # one step, not the missed three


@pytest.mark.parametrize(
    "reason",
    [StopReason.WITHDRAWN, StopReason.EXHAUSTED, StopReason.CLOSED, StopReason.RECALLED],
)
async def test_withdrawal_recall_exhaustion_and_closing_stop_the_plan(reason: StopReason) -> None:
    driver = await _started()
    async with driver.units() as uow:
        if reason is StopReason.RECALLED:
            await plan_lifecycle.holding_ended(
                uow, case_id="case-1", holder_id="prov-1", round=1, reason=reason
            )
        else:
            await plan_lifecycle.stop_case_plans(uow, "case-1", reason)
        await uow.commit()
    await driver.run_for(timedelta(days=60))
    assert [step for _, _, step in driver.sent()] == [1]


async def test_after_a_rotation_the_new_holder_starts_its_own_plan_with_its_own_first_letter() -> (
    None
):
    driver = await _started()
    await driver.run_for(timedelta(days=8))  # step 2 of prov-1 went out
    async with driver.units() as uow:
        await plan_lifecycle.holding_ended(
            uow, case_id="case-1", holder_id="prov-1", round=1, reason=StopReason.ROTATED
        )
        await uow.commit()
    await driver.assigned("case-1", "cred-1", "prov-2", round=2)
    await driver.run_for(timedelta(days=30))
    by_holder = [(m.holder_id, m.round, m.step, m.template) for m in driver.dispatcher.calls]
    assert by_holder[:3] == [
        ("prov-1", 1, 1, "first_letter"),
        ("prov-1", 1, 2, "reminder"),
        ("prov-2", 2, 1, "first_letter"),
    ]
    assert all(holder == "prov-2" for holder, *_ in by_holder[2:])
    second_first = driver.dispatcher.calls[2]
    assert second_first.first_sent_on is None  # R124-4 mentions in full again


async def test_an_assignment_seen_before_the_rotation_still_ends_the_old_holders_plan() -> None:
    driver = await _started()
    await driver.assigned("case-1", "cred-1", "prov-2", round=2)
    await driver.assigned("case-1", "cred-1", "prov-2", round=2)  # redelivered
    async with driver.units() as uow:
        plans = await uow.plans.of_case("case-1")
    assert [(p.holder_id, p.status) for p in plans] == [
        ("prov-1", PlanStatus.STOPPED),
        ("prov-2", PlanStatus.ACTIVE),
    ]


async def test_a_message_is_recorded_pending_before_dispatch_and_redispatched_with_its_id() -> None:
    driver = Driver(MONDAY_11H)
    driver.dispatcher.fail_first = 1
    await driver.assigned("case-1", "cred-1", "prov-1")
    with pytest.raises(ConnectionError):
        await due_steps.fire_next_due(
            driver.units, clock=driver.clock, dispatcher=driver.dispatcher, holidays=HOLIDAYS
        )
    (first,) = driver.dispatcher.calls
    async with driver.units() as uow:
        record = await uow.messages.get(first.message_id)
        assert record is not None
        assert record.status is MessageStatus.PENDING
    driver.clock.advance(due_steps.DISPATCH_LEASE)
    await driver.fire_due()
    assert [m.message_id for m in driver.dispatcher.calls] == [first.message_id] * 2
    async with driver.units() as uow:
        record = await uow.messages.get(first.message_id)
        assert record is not None
        assert record.status is MessageStatus.SENT
        assert record.channel_reference == f"<{first.message_id}@test>"
        (plan,) = await uow.plans.of_case("case-1")
    assert plan.next_step == 2  # the step is not fired a second time under a new id


async def test_a_pending_message_of_a_plan_stopped_since_is_not_sent() -> None:
    driver = Driver(MONDAY_11H)
    driver.dispatcher.fail_first = 1
    await driver.assigned("case-1", "cred-1", "prov-1")
    with pytest.raises(ConnectionError):
        await driver.fire_due()
    async with driver.units() as uow:
        await plan_lifecycle.payment_attributed(
            uow, case_id="case-1", amount_minor=1, settles_in_full=True
        )
        await uow.commit()
    driver.clock.advance(timedelta(hours=1))
    await driver.fire_due()
    assert len(driver.dispatcher.calls) == 1
    (record,) = driver.fakes.tables.messages.values()
    assert (record.status, record.reason) == (
        MessageStatus.NOT_SENT,
        "plan stopped before dispatch",
    )


async def letter_cut_off_then_paid_in_full(driver: Driver) -> None:
    """The first letter goes out, its record is cut off before "sent", the debtor pays in full
    (the plan stops), and the pending message's lease runs out."""
    driver.dispatcher.crash_after_send = 1
    await driver.assigned("case-1", "cred-1", "prov-1")
    with pytest.raises(ConnectionError):
        await driver.fire_due()
    async with driver.units() as uow:
        await plan_lifecycle.payment_attributed(
            uow, case_id="case-1", amount_minor=1, settles_in_full=True
        )
        await uow.commit()
    driver.clock.advance(due_steps.DISPATCH_LEASE)


async def test_a_letter_sent_before_its_record_was_cut_off_is_recorded_sent_if_its_plan_stops() -> (
    None
):
    # Found by the fault harness: the letter went out, the connection dropped before "sent" was
    # recorded, the debtor paid in full, and the lease's end recorded a letter the debtor had
    # received as not sent.
    driver = Driver(MONDAY_11H)
    await letter_cut_off_then_paid_in_full(driver)
    await driver.fire_due()
    assert len(driver.dispatcher.calls) == 1  # asked what became of it, not sent again
    (record,) = driver.fakes.tables.messages.values()
    assert record.status is MessageStatus.SENT
    assert record.channel_reference == f"<{record.message_id}@test>"


async def test_a_message_an_earlier_attempt_may_still_be_sending_stays_pending_and_goes_once() -> (
    None
):
    # Found by the fault harness at 300 cases: the letter was handed to the post, the vault was
    # killed before its evidence was kept, and a second dispatch within the lease heard "another
    # dispatch is under way"; that answer was recorded as final, "not sent", and never retried.
    driver = Driver(MONDAY_11H)
    driver.dispatcher.under_way_first = 1
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    (record,) = driver.fakes.tables.messages.values()
    assert record.status is MessageStatus.PENDING  # nothing decided yet
    driver.clock.advance(due_steps.DISPATCH_LEASE)
    await driver.fire_due()
    (record,) = driver.fakes.tables.messages.values()
    assert record.status is MessageStatus.SENT
    assert driver.dispatcher.sent_ids == [record.message_id]  # the same message, once


async def test_a_stopped_plan_letter_whose_evidence_fails_is_asked_again_after_its_lease() -> None:
    # The outcome keeps the letter's evidence first; while the vault does not answer the message
    # stays pending, its lease taken, so the timer loop goes on to other work meanwhile.
    driver = Driver(MONDAY_11H)
    driver.dispatcher.outcome_fails = 1
    await letter_cut_off_then_paid_in_full(driver)
    with pytest.raises(ConnectionError, match="vault"):
        await driver.fire_due()
    (record,) = driver.fakes.tables.messages.values()
    assert record.status is MessageStatus.PENDING
    assert await driver.fire_due() == 0  # not asked again before its lease ran out
    assert driver.dispatcher.asked == [record.message_id]
    driver.clock.advance(due_steps.DISPATCH_LEASE)
    await driver.fire_due()
    (record,) = driver.fakes.tables.messages.values()
    assert record.status is MessageStatus.SENT
    assert len(driver.dispatcher.calls) == 1


async def test_a_holding_gets_one_plan_even_when_its_assignment_comes_again_after_it_ended() -> (
    None
):
    driver = await _started()
    async with driver.units() as uow:
        await plan_lifecycle.holding_ended(
            uow, case_id="case-1", holder_id="prov-1", round=1, reason=StopReason.RECALLED
        )
        await uow.commit()
    await driver.assigned("case-1", "cred-1", "prov-1", round=1)  # a late redelivery
    await driver.run_for(timedelta(days=30))
    async with driver.units() as uow:
        plans = await uow.plans.of_case("case-1")
    assert [(p.status, p.stop_reason) for p in plans] == [(PlanStatus.STOPPED, StopReason.RECALLED)]
    assert [step for _, _, step in driver.sent()] == [1]
