"""ContactPlanService trusts only the caller its token names: a creditor or a provider sets and
reads its own template, only a creditor its limits and postponements, and a channel opt-out comes
from the debtor of that case, its creditor or its current holder; a foreign case is not found."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from messaging.entrypoints.contact_plan_api import ContactPlanApi
from recouvra.messaging.v1 import messaging_pb2 as pb
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidRequest, NotFound, PermissionDenied, Unauthenticated
from services.messaging.tests.unit.plan_driver import Driver

STEPS = [
    pb.PlanStep(
        offset_days=0, channel=pb.CHANNEL_LETTER, template="first_letter", tone=pb.TONE_FIRM
    ),
    pb.PlanStep(offset_days=5, channel=pb.CHANNEL_EMAIL, template="nudge", tone=pb.TONE_FIRM),
]


def as_caller(kind: str, tenant: str | None) -> None:
    caller_var.set(Caller(kind=kind, subject=f"user-of-{tenant}", tenant_id=tenant))


@pytest.fixture
async def api() -> tuple[ContactPlanApi, Driver]:
    driver = Driver(datetime(2027, 3, 8, 9, 0, tzinfo=UTC))
    await driver.submitted("case-1", "cred-1", "debtor-a")
    await driver.assigned("case-1", "cred-1", "prov-1")
    return ContactPlanApi(driver.units, driver.clock), driver


async def test_each_owner_sets_and_reads_only_its_own_template(
    api: tuple[ContactPlanApi, Driver],
) -> None:
    service, _ = api
    as_caller("provider", "prov-1")
    mine = await service.SetPlanTemplate(
        pb.SetPlanTemplateRequest(strategy="amicable-reminders", steps=STEPS),
        None,  # type: ignore[arg-type]
    )
    assert [s.template for s in mine.steps] == ["first_letter", "nudge"]
    assert not mine.platform_default
    as_caller("provider", "prov-2")
    theirs = await service.GetPlanTemplate(
        pb.GetPlanTemplateRequest(strategy="amicable-reminders"),
        None,  # type: ignore[arg-type]
    )
    assert theirs.platform_default
    assert theirs.steps[0].template == "first_letter"
    as_caller("operator", "ops")
    with pytest.raises(PermissionDenied):
        await service.GetPlanTemplate(pb.GetPlanTemplateRequest(), None)  # type: ignore[arg-type]
    caller_var.set(None)
    with pytest.raises(Unauthenticated):
        await service.GetPlanTemplate(pb.GetPlanTemplateRequest(), None)  # type: ignore[arg-type]


async def test_a_template_with_an_unknown_tone_or_a_late_first_step_is_refused(
    api: tuple[ContactPlanApi, Driver],
) -> None:
    service, _ = api
    as_caller("creditor", "cred-1")
    late = [
        pb.PlanStep(
            offset_days=3, channel=pb.CHANNEL_LETTER, template="first_letter", tone=pb.TONE_REMINDER
        )
    ]
    with pytest.raises(InvalidRequest) as refused:
        await service.SetPlanTemplate(pb.SetPlanTemplateRequest(steps=late), None)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == ["steps[0].offset_days"]
    unknown = [pb.PlanStep(offset_days=0, channel=pb.CHANNEL_LETTER, template="first_letter")]
    with pytest.raises(InvalidRequest) as refused:
        await service.SetPlanTemplate(pb.SetPlanTemplateRequest(steps=unknown), None)  # type: ignore[arg-type]
    assert [v.field for v in refused.value.violations] == ["steps[0].tone"]


async def test_only_a_creditor_sets_its_limits_and_reads_its_postponements(
    api: tuple[ContactPlanApi, Driver],
) -> None:
    service, _ = api
    as_caller("provider", "prov-1")
    with pytest.raises(PermissionDenied):
        await service.SetContactLimits(pb.SetContactLimitsRequest(reset=True), None)  # type: ignore[arg-type]
    with pytest.raises(PermissionDenied):
        await service.ListPostponements(pb.ListPostponementsRequest(), None)  # type: ignore[arg-type]
    as_caller("creditor", "cred-1")
    stricter = pb.ContactLimits(per_day=1, per_week=2, start_hour=11, end_hour=19, weekdays=[0, 2])
    reply = await service.SetContactLimits(
        pb.SetContactLimitsRequest(limits=stricter),
        None,  # type: ignore[arg-type]
    )
    assert (reply.per_week, reply.start_hour, list(reply.weekdays)) == (2, 11, [0, 2])
    assert not reply.platform_default
    as_caller("creditor", "cred-2")
    other = await service.GetContactLimits(pb.GetContactLimitsRequest(), None)  # type: ignore[arg-type]
    assert other.platform_default


@pytest.mark.parametrize(
    ("kind", "tenant", "allowed"),
    [
        ("debtor", "case-1", True),
        ("creditor", "cred-1", True),
        ("provider", "prov-1", True),
        ("debtor", "case-2", False),
        ("creditor", "cred-2", False),
        ("provider", "prov-2", False),
    ],
)
async def test_an_opt_out_comes_from_a_party_of_that_case(
    api: tuple[ContactPlanApi, Driver], kind: str, tenant: str, allowed: bool
) -> None:
    service, driver = api
    as_caller(kind, tenant)
    request = pb.RefuseChannelRequest(case_id="case-1", channel=pb.CHANNEL_EMAIL)
    if allowed:
        await service.RefuseChannel(request, None)  # type: ignore[arg-type]
        assert driver.fakes.tables.refused == {"debtor-a": {"email"}}
    else:
        with pytest.raises(NotFound):
            await service.RefuseChannel(request, None)  # type: ignore[arg-type]
        assert driver.fakes.tables.refused == {}
