"""The debtor's actions on the contact plan, on a test clock: a dispute pauses it; a promise or an
agreed plan pauses it until its day; a plan kept by its payments keeps it quiet; a missed
instalment beyond the grace breaks the plan and contact resumes; each fact leaves by the outbox,
without the debtor's words."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from messaging.domain.instalments import InstalmentPolicy, Period, PlanState, Proposal
from messaging.domain.plans import PauseReason, PlanStatus
from messaging.service_layer import debtor_actions
from recouvra.events.v1 import debtor_events_pb2 as facts
from recouvra_shared.errors import InvalidRequest, NotFound, StateConflict
from services.messaging.tests.unit.plan_driver import Driver

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)
EVIDENCE = "0b6f9a55-6a57-4c55-9d8e-2f7d7b1c1a10"


async def _started() -> Driver:
    driver = Driver(MONDAY_11H)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "amicable-reminders")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    return driver


def published(driver: Driver) -> list[tuple[str, object]]:
    """(topic, decoded payload) of every committed outbox event."""
    found = []
    for event in driver.fakes.platform.outbox:
        kind = {
            "messaging.dispute-opened.v1": facts.DisputeOpened,
            "messaging.promise-made.v1": facts.PromiseMade,
            "messaging.plan-proposed.v1": facts.PlanProposed,
            "messaging.plan-agreed.v1": facts.PlanAgreed,
            "messaging.plan-refused.v1": facts.PlanRefused,
            "messaging.plan-broken.v1": facts.PlanBroken,
            "messaging.debtor-payment-declared.v1": facts.DebtorPaymentDeclared,
        }[event.topic]
        payload = kind()
        event.envelope.payload.Unpack(payload)
        found.append((event.topic, payload))
    return found


async def _propose(driver: Driver, proposal: Proposal) -> str:
    async with driver.units() as uow:
        plan = await debtor_actions.propose_plan(
            uow,
            case_id="case-1",
            creditor_id="cred-1",
            proposal=proposal,
            proposed_by="debtor",
            now=driver.clock.now(),
        )
    return plan.plan_id


async def _pay(driver: Driver, payment_id: str, amount: int) -> None:
    async with driver.units() as uow:
        await debtor_actions.payment_towards_plan(
            uow,
            case_id="case-1",
            payment_id=payment_id,
            amount_minor=amount,
            now=driver.clock.now(),
        )
        await uow.commit()


async def _live_until(driver: Driver, moment: datetime) -> None:
    """Time passes to `moment`, firing plan checks and contact steps on the way, day by day."""
    while driver.clock.now() < moment:
        driver.clock.moment = min(moment, driver.clock.now() + timedelta(hours=12))
        while await debtor_actions.check_next_plan(driver.units, driver.clock.now()):
            pass
        await driver.fire_due()


async def test_a_dispute_pauses_the_plan_and_tells_the_creditor_without_the_words() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await debtor_actions.open_dispute(
            uow,
            case_id="case-1",
            creditor_id="cred-1",
            reason="defective",
            text="Les baguettes étaient rassises, voir photo.",
            evidence_ids=(EVIDENCE,),
            opened_by="debtor",
            now=driver.clock.now(),
        )
    await driver.run_for(timedelta(days=60))
    assert [step for _, _, step in driver.sent()] == [1]
    ((topic, fact),) = published(driver)
    assert topic == "messaging.dispute-opened.v1"
    assert isinstance(fact, facts.DisputeOpened)
    assert (fact.reason, fact.evidence_documents, fact.opened_by) == ("defective", 1, "debtor")
    assert b"rassises" not in fact.SerializeToString()


async def test_a_second_dispute_while_one_is_open_is_refused_and_changes_nothing() -> None:
    driver = await _started()
    for attempt in range(2):
        async with driver.units() as uow:
            call = debtor_actions.open_dispute(
                uow,
                case_id="case-1",
                creditor_id="cred-1",
                reason="not-delivered",
                text="",
                evidence_ids=(),
                opened_by="debtor",
                now=driver.clock.now(),
            )
            if attempt:
                with pytest.raises(StateConflict):
                    await call
            else:
                await call
    assert len(published(driver)) == 1


async def test_a_dispute_with_an_unknown_reason_names_the_field() -> None:
    driver = await _started()
    async with driver.units() as uow:
        with pytest.raises(InvalidRequest) as refused:
            await debtor_actions.open_dispute(
                uow,
                case_id="case-1",
                creditor_id="cred-1",
                reason="too-expensive",
                text="",
                evidence_ids=("not-a-uuid",),
                opened_by="debtor",
                now=driver.clock.now(),
            )
    fields = [v.field for v in refused.value.violations]
    assert fields == ["reason", "evidence_document_ids[0]"]


async def test_a_promise_pauses_the_plan_until_its_day_and_is_published() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await debtor_actions.make_promise(
            uow,
            case_id="case-1",
            creditor_id="cred-1",
            amount_minor=50_000,
            currency="EUR",
            owed_minor=90_000,
            promised_on=date(2027, 3, 20),
            made_by="debtor",
            now=driver.clock.now(),
        )
    await driver.run_for(timedelta(days=20))
    # Nothing while the promise ran (20 March + 3 days' grace), then contact resumes.
    assert [(w.date(), s) for w, _, s in driver.sent()] == [
        (date(2027, 3, 8), 1),
        (date(2027, 3, 24), 2),
    ]
    ((topic, fact),) = published(driver)
    assert topic == "messaging.promise-made.v1"
    assert isinstance(fact, facts.PromiseMade)
    assert (fact.amount.minor_units, fact.promised_on) == (50_000, "2027-03-20")


async def test_a_promise_beyond_what_is_owed_is_refused() -> None:
    driver = await _started()
    async with driver.units() as uow:
        with pytest.raises(InvalidRequest, match="amount"):
            await debtor_actions.make_promise(
                uow,
                case_id="case-1",
                creditor_id="cred-1",
                amount_minor=90_001,
                currency="EUR",
                owed_minor=90_000,
                promised_on=date(2027, 3, 20),
                made_by="debtor",
                now=driver.clock.now(),
            )


def part(name: str | None):  # type: ignore[no-untyped-def]
    """A caller who is `name` on every case (None: a stranger)."""

    async def of(uow: object, plan: object) -> str | None:
        return name

    return of


THREE_MONTHS = Proposal(90_000, "EUR", 3, date(2027, 3, 15), Period.MONTHLY)


async def test_a_plan_kept_by_its_payments_keeps_contact_quiet_to_the_end() -> None:
    driver = await _started()
    await _propose(driver, THREE_MONTHS)
    for day, payment in ((date(2027, 3, 15), "p1"), (date(2027, 4, 16), "p2")):
        await _live_until(driver, datetime.combine(day, datetime.min.time(), UTC))
        await _pay(driver, payment, 30_000)
    await _pay(driver, "p2", 30_000)  # matching republishes a payment settlement confirmed
    await _live_until(driver, datetime(2027, 5, 14, tzinfo=UTC))
    await _pay(driver, "p3", 30_000)
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
        (contact,) = await uow.plans.of_case("case-1")
    assert plan.state is PlanState.COMPLETED
    assert plan.paid_minor == 90_000
    assert [step for _, _, step in driver.sent()] == [1]
    assert [t for t, _ in published(driver)] == [
        "messaging.plan-proposed.v1",
        "messaging.plan-agreed.v1",
    ]
    assert contact.status is PlanStatus.ACTIVE  # paid the plan: anything left is asked again


async def test_a_missed_instalment_breaks_the_plan_after_the_grace_and_contact_resumes() -> None:
    driver = await _started()
    await _propose(driver, THREE_MONTHS)
    await _pay(driver, "p1", 30_000)
    await _live_until(driver, datetime(2027, 4, 20, 23, 0, tzinfo=UTC))  # 15 April + 5 days
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
        (contact,) = await uow.plans.of_case("case-1")
    assert plan.state is PlanState.AGREED  # the grace runs to the end of 20 April
    assert contact.pause_reason is PauseReason.INSTALMENT_PLAN
    await _live_until(driver, datetime(2027, 4, 21, 12, 0, tzinfo=UTC))
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
        (contact,) = await uow.plans.of_case("case-1")
    assert plan.state is PlanState.BROKEN
    assert plan.missed_instalment == 2
    assert contact.status is PlanStatus.ACTIVE
    topic, broken = published(driver)[-1]
    assert topic == "messaging.plan-broken.v1"
    assert isinstance(broken, facts.PlanBroken)
    assert (broken.paid.minor_units, broken.owed_by_then.minor_units) == (30_000, 60_000)
    assert [step for _, _, step in driver.sent()] == [1, 2]  # step 2 the morning after the break


async def test_a_plan_outside_the_policy_waits_and_only_the_cases_parties_decide() -> None:
    driver = await _started()
    async with driver.units() as uow:
        await uow.instalments.set_policy("cred-1", InstalmentPolicy(max_instalments=2))
        await uow.commit()
    plan_id = await _propose(driver, THREE_MONTHS)
    async with driver.units() as uow:
        (contact,) = await uow.plans.of_case("case-1")
    assert contact.status is PlanStatus.ACTIVE  # a pending plan does not stop contact
    async with driver.units() as uow:
        with pytest.raises(NotFound):
            await debtor_actions.decide_plan(
                uow, plan_id=plan_id, may_decide=part(None), accept=True, now=MONDAY_11H
            )
    async with driver.units() as uow:
        plan = await debtor_actions.decide_plan(
            uow, plan_id=plan_id, may_decide=part("creditor"), accept=True, now=MONDAY_11H
        )
    assert (plan.state, plan.decided_by) == (PlanState.AGREED, "creditor")
    async with driver.units() as uow:
        (contact,) = await uow.plans.of_case("case-1")
    assert contact.pause_reason is PauseReason.INSTALMENT_PLAN
    proposed, agreed = published(driver)
    assert isinstance(proposed[1], facts.PlanProposed)
    assert not proposed[1].within_policy
    assert agreed[0] == "messaging.plan-agreed.v1"


async def test_a_second_plan_beside_a_live_one_is_refused() -> None:
    driver = await _started()
    await _propose(driver, THREE_MONTHS)
    with pytest.raises(StateConflict):
        await _propose(driver, THREE_MONTHS)


async def _dispute(driver: Driver) -> str:
    async with driver.units() as uow:
        dispute = await debtor_actions.open_dispute(
            uow,
            case_id="case-1",
            creditor_id="cred-1",
            reason="not-delivered",
            text="",
            evidence_ids=(),
            opened_by="debtor",
            now=driver.clock.now(),
        )
    return dispute.dispute_id


async def test_a_resolved_dispute_lets_contact_go_on_from_its_next_step() -> None:
    driver = await _started()
    dispute_id = await _dispute(driver)
    await driver.run_for(timedelta(days=10))
    async with driver.units() as uow:
        await debtor_actions.resolve_dispute(
            uow, case_id="case-1", dispute_id=dispute_id, now=driver.clock.now()
        )
    async with driver.units() as uow:
        with pytest.raises(StateConflict):
            await debtor_actions.resolve_dispute(
                uow, case_id="case-1", dispute_id=dispute_id, now=driver.clock.now()
            )
    await driver.run_for(timedelta(days=2))
    assert [step for _, _, step in driver.sent()] == [1, 2]


async def test_a_broken_plan_does_not_resume_contact_while_a_dispute_is_open() -> None:
    driver = await _started()
    await _propose(driver, THREE_MONTHS)
    await _dispute(driver)
    await _live_until(driver, datetime(2027, 3, 25, 12, 0, tzinfo=UTC))  # 15 March + grace
    async with driver.units() as uow:
        (plan,) = await uow.instalments.of_case("case-1")
        (contact,) = await uow.plans.of_case("case-1")
    assert plan.state is PlanState.BROKEN
    assert contact.pause_reason is PauseReason.DISPUTE
    assert [step for _, _, step in driver.sent()] == [1]
