"""Which plan a holding gets: the creditor's, else the holder's, else the platform's for the
strategy; never one for a debtor in insolvency; and overrides a debtor could not be held to are
refused naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from messaging.domain.outgoing import Channel, Tone
from messaging.domain.plans import (
    AMICABLE,
    JUDICIAL,
    PlanStep,
    checked_template,
)
from messaging.service_layer import contact_settings
from recouvra_shared.errors import InvalidRequest
from services.messaging.tests.unit.plan_driver import Driver

MONDAY_11H = datetime(2027, 3, 8, 10, 0, tzinfo=UTC)  # 11:00 in Paris
SHORT = (
    PlanStep(0, Channel.LETTER, "first_letter", Tone.REMINDER),
    PlanStep(3, Channel.EMAIL, "nudge", Tone.FIRM),
)
PROVIDERS_OWN = (PlanStep(0, Channel.LETTER, "first_letter", Tone.FIRM),)


async def _plan_of(driver: Driver, case_id: str):  # type: ignore[no-untyped-def]
    async with driver.units() as uow:
        (plan,) = await uow.plans.of_case(case_id)
    return plan


async def test_the_platform_default_follows_the_strategy_scoring_chose() -> None:
    driver = Driver(MONDAY_11H)
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.scored("case-1", "injonction-de-payer")
    await driver.assigned("case-1", "cred-1", "prov-1")
    assert (await _plan_of(driver, "case-1")).template == JUDICIAL


async def test_a_case_not_yet_scored_gets_amicable_reminders() -> None:
    driver = Driver(MONDAY_11H)
    await driver.assigned("case-1", "cred-1", "prov-1")
    assert (await _plan_of(driver, "case-1")).template == AMICABLE


async def test_the_creditors_template_wins_over_the_holders_which_wins_over_the_default() -> None:
    driver = Driver(MONDAY_11H)
    async with driver.units() as uow:
        await contact_settings.set_plan_template(
            uow, owner_kind="provider", owner_id="prov-1", strategy="*", steps=PROVIDERS_OWN
        )
    await driver.assigned("case-1", "cred-1", "prov-1")
    assert (await _plan_of(driver, "case-1")).template.steps == PROVIDERS_OWN

    async with driver.units() as uow:
        await contact_settings.set_plan_template(
            uow,
            owner_kind="creditor",
            owner_id="cred-2",
            strategy="amicable-reminders",
            steps=SHORT,
        )
    await driver.assigned("case-2", "cred-2", "prov-1")
    assert (await _plan_of(driver, "case-2")).template.steps == SHORT


async def test_a_debtor_in_insolvency_proceedings_gets_no_plan_and_nothing_is_sent() -> None:
    driver = Driver(MONDAY_11H)
    await driver.scored("case-1", "declare-claim", insolvent=True)
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    async with driver.units() as uow:
        assert await uow.plans.of_case("case-1") == []
    assert driver.dispatcher.calls == []


@pytest.mark.parametrize(
    ("steps", "field", "rule"),
    [
        ((), "steps", "at least one step"),
        (
            (PlanStep(2, Channel.LETTER, "first_letter", Tone.REMINDER),),
            "steps[0].offset_days",
            "the first step is on day 0",
        ),
        (
            (PlanStep(0, Channel.EMAIL, "reminder", Tone.REMINDER),),
            "steps[0].template",
            "the first step is first_letter",
        ),
        (
            (
                PlanStep(0, Channel.LETTER, "first_letter", Tone.FIRM),
                PlanStep(5, Channel.EMAIL, "reminder", Tone.REMINDER),
            ),
            "steps[1].tone",
            "the tone only escalates",
        ),
        (
            (
                PlanStep(0, Channel.LETTER, "first_letter", Tone.REMINDER),
                PlanStep(0, Channel.EMAIL, "reminder", Tone.REMINDER),
            ),
            "steps[1].offset_days",
            "after the previous step's offset",
        ),
        (
            (
                PlanStep(0, Channel.LETTER, "first_letter", Tone.REMINDER),
                PlanStep(9, Channel.EMAIL, "formal_notice", Tone.FORMAL_NOTICE),
            ),
            "steps[1].channel",
            "a formal notice is a letter",
        ),
    ],
)
def test_an_override_a_debtor_could_not_be_held_to_is_refused_naming_the_field(
    steps: tuple[PlanStep, ...], field: str, rule: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        checked_template(steps)
    assert (field, rule) in {(v.field, v.rule) for v in refused.value.violations}
