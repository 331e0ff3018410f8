"""Contact limits on a test clock: one debtor with three cases from two creditors is never
contacted more than once a day or three times in seven days, never at night, on a weekend or on
14 July; every step still goes, later, with the reasons recorded. Creditors may only tighten."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from messaging.domain.contact_limits import ContactLimits, debtor_zone, next_allowed
from messaging.domain.outgoing import Channel
from messaging.service_layer import contact_settings
from recouvra_shared.errors import InvalidField, InvalidRequest
from services.messaging.tests.unit.plan_driver import HOLIDAYS, Driver

PARIS = ZoneInfo("Europe/Paris")
FRIDAY_NIGHT = datetime(2027, 7, 9, 21, 30, tzinfo=PARIS)  # 14 July 2027 is a Wednesday


async def _one_debtor_three_cases() -> Driver:
    driver = Driver(FRIDAY_NIGHT.astimezone(UTC))
    for case_id, creditor_id, holder_id in (
        ("case-1", "cred-1", "prov-1"),
        ("case-2", "cred-1", "prov-2"),
        ("case-3", "cred-2", "prov-3"),
    ):
        await driver.submitted(case_id, creditor_id, "debtor-a")
        await driver.assigned(case_id, creditor_id, holder_id)
    await driver.submitted("case-9", "cred-2", "debtor-b")
    return driver


async def test_three_cases_of_one_debtor_from_two_creditors_never_exceed_the_caps() -> None:
    driver = await _one_debtor_three_cases()
    await driver.run_for(timedelta(days=70))
    sent = [when.astimezone(PARIS) for when, case, _ in driver.sent() if case != "case-9"]

    assert len(sent) == 12  # 3 plans x 4 steps: postponed, none dropped
    assert max(Counter(moment.date() for moment in sent).values()) == 1
    for moment in sent:
        in_week = [other for other in sent if moment - timedelta(days=7) < other <= moment]
        assert len(in_week) <= 3, moment
        assert time(10) <= moment.time() < time(20)
        assert not time(13) <= moment.time() < time(14)
        assert moment.weekday() < 5, moment
        assert moment.date() != date(2027, 7, 14)
    assert sent[0] == datetime(2027, 7, 12, 10, 0, tzinfo=PARIS)  # Monday morning


async def test_every_postponement_is_recorded_with_its_reasons_for_the_creditor() -> None:
    driver = await _one_debtor_three_cases()
    await driver.run_for(timedelta(days=70))
    async with driver.units() as uow:
        theirs = await contact_settings.postponements_of(uow, "cred-1")
        others = await contact_settings.postponements_of(uow, "cred-2", "case-3")
    assert {p.case_id for p in theirs} == {"case-1", "case-2"}
    assert {p.case_id for p in others} == {"case-3"}
    reasons = {reason for p in theirs + others for reason in p.reasons}
    assert "after 20:00 in the debtor's time" in reasons
    assert "no contact on a saturday" in reasons
    assert "daily cap of 1 reached for this debtor" in reasons
    assert "cap of 3 in 7 days reached for this debtor" in reasons
    assert "public holiday (2027-07-14)" in reasons
    first = next(p for p in others if p.step == 1)
    assert first.wanted_at == FRIDAY_NIGHT.astimezone(UTC)
    assert first.moved_to > first.wanted_at


async def test_another_debtor_is_not_held_back_by_this_debtors_caps() -> None:
    driver = await _one_debtor_three_cases()
    driver.clock.moment = datetime(2027, 7, 12, 8, 0, tzinfo=UTC)  # Monday 10:00 in Paris
    await driver.fire_due()
    await driver.assigned("case-9", "cred-2", "prov-3")
    await driver.fire_due()
    today = [case for when, case, _ in driver.sent() if when.date() == date(2027, 7, 12)]
    assert sorted(today) == ["case-1", "case-9"]


async def test_a_creditors_stricter_limits_apply_to_its_own_cases() -> None:
    driver = Driver(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))  # Monday 10:00 in Paris
    async with driver.units() as uow:
        await contact_settings.set_contact_limits(
            uow,
            creditor_id="cred-1",
            limits=ContactLimits(per_day=1, per_week=1, start_hour=15, end_hour=18),
        )
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.run_for(timedelta(days=40))
    sent = [when.astimezone(PARIS) for when, _, _ in driver.sent()]
    assert sent[0] == datetime(2027, 3, 8, 15, 0, tzinfo=PARIS)
    assert all(time(15) <= moment.time() < time(18) for moment in sent)
    assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(sent))


@pytest.mark.parametrize(
    ("limits", "field"),
    [
        (ContactLimits(per_day=2), "per_day"),
        (ContactLimits(per_week=5), "per_week"),
        (ContactLimits(start_hour=8), "start_hour"),
        (ContactLimits(end_hour=21), "end_hour"),
        (ContactLimits(weekdays=frozenset(range(6))), "weekdays"),
    ],
)
async def test_a_laxer_limit_is_refused_naming_the_field(limits: ContactLimits, field: str) -> None:
    driver = Driver(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    async with driver.units() as uow:
        with pytest.raises(InvalidRequest) as refused:
            await contact_settings.set_contact_limits(uow, creditor_id="cred-1", limits=limits)
    assert [v.field for v in refused.value.violations] == [field]
    assert "stricter only" in refused.value.violations[0].rule
    async with driver.units() as uow:
        assert await contact_settings.effective_limits(uow, "cred-1") is None


async def test_an_opt_out_is_honoured_from_the_next_step_which_goes_by_letter() -> None:
    driver = Driver(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.assigned("case-1", "cred-1", "prov-1")
    await driver.fire_due()
    async with driver.units() as uow:
        contact = await contact_settings.case_for(uow, "case-1", holder_id="prov-1")
        await contact_settings.refuse_channel(
            uow, contact=contact, channel=Channel.EMAIL, now=driver.clock.now()
        )
    await driver.run_for(timedelta(days=8))
    second = driver.dispatcher.calls[-1]
    assert (second.step, second.channel) == (2, Channel.LETTER)
    async with driver.units() as uow:
        record = await uow.messages.get(second.message_id)
    assert record is not None
    assert record.reason == "email refused by the debtor: sent by letter"


async def test_a_letter_cannot_be_refused_and_a_foreign_case_is_not_found() -> None:
    driver = Driver(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    await driver.submitted("case-1", "cred-1", "debtor-a")
    async with driver.units() as uow:
        contact = await contact_settings.case_for(uow, "case-1", creditor_id="cred-1")
        with pytest.raises(InvalidField) as refused:
            await contact_settings.refuse_channel(
                uow, contact=contact, channel=Channel.LETTER, now=driver.clock.now()
            )
        assert refused.value.field == "channel"
        with pytest.raises(Exception, match="no such case"):
            await contact_settings.case_for(uow, "case-1", creditor_id="cred-2")


def test_the_debtors_own_time_zone_decides_the_hours() -> None:
    reunion = debtor_zone("FR-974")
    wanted = datetime(2027, 3, 8, 9, 0, tzinfo=UTC)  # 13:00 in Saint-Denis: lunch
    verdict = next_allowed(
        wanted, zone=reunion, limits=ContactLimits(), contacts=[], is_holiday=HOLIDAYS
    )
    assert verdict.at == datetime(2027, 3, 8, 14, 0, tzinfo=reunion)
    assert debtor_zone("DE") == ZoneInfo("Europe/Berlin")
    assert debtor_zone("") == PARIS
