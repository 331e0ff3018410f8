"""The ContactPlanService servicer: requests to use cases, answers to replies, nothing else.

Who owns a template or limits is the caller its verified token names (`caller_var`), never a
field of the request; a case another creditor owns answers NOT_FOUND.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from messaging.domain.clock import Clock
from messaging.domain.contact_limits import PLATFORM_LIMITS, ContactLimits
from messaging.domain.outgoing import Channel, Tone
from messaging.domain.plans import AMICABLE, ANY_STRATEGY, PLATFORM_DEFAULTS, PlanStep
from messaging.service_layer import contact_settings
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra.messaging.v1 import messaging_pb2 as pb
from recouvra.messaging.v1 import messaging_pb2_grpc
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField, NotFound, PermissionDenied, Unauthenticated

SERVICE_NAME = pb.DESCRIPTOR.services_by_name["ContactPlanService"].full_name
CHANNELS = {
    pb.CHANNEL_EMAIL: Channel.EMAIL,
    pb.CHANNEL_LETTER: Channel.LETTER,
    pb.CHANNEL_SMS: Channel.SMS,
}
TONES = {
    pb.TONE_REMINDER: Tone.REMINDER,
    pb.TONE_FIRM: Tone.FIRM,
    pb.TONE_FORMAL_NOTICE: Tone.FORMAL_NOTICE,
}
# The debtor portal's token names the case it was issued for as the caller's tenant.
DEBTOR = "debtor"


def _caller() -> Caller:
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    return caller


def _tenant(*kinds: str) -> tuple[str, str]:
    """(kind, id) of the calling creditor or provider; refused for anyone else."""
    caller = _caller()
    if caller.kind not in kinds or not caller.tenant_id:
        raise PermissionDenied(f"caller: only a {' or a '.join(kinds)} may call this")
    return caller.kind, caller.tenant_id


def _steps(request: pb.SetPlanTemplateRequest) -> tuple[PlanStep, ...]:
    steps = []
    for index, step in enumerate(request.steps):
        if step.channel not in CHANNELS:
            raise InvalidField(f"steps[{index}].channel", "email, letter or sms")
        if step.tone not in TONES:
            raise InvalidField(f"steps[{index}].tone", "reminder, firm or formal_notice")
        steps.append(
            PlanStep(step.offset_days, CHANNELS[step.channel], step.template, TONES[step.tone])
        )
    return tuple(steps)


def _template_reply(strategy: str, steps: tuple[PlanStep, ...], default: bool) -> pb.PlanTemplate:
    channels = {v: k for k, v in CHANNELS.items()}
    tones = {v: k for k, v in TONES.items()}
    return pb.PlanTemplate(
        strategy=strategy,
        platform_default=default,
        steps=[
            pb.PlanStep(
                offset_days=s.offset_days,
                channel=channels[s.channel],
                template=s.template,
                tone=tones[s.tone],
            )
            for s in steps
        ],
    )


def _limits_reply(limits: ContactLimits | None) -> pb.ContactLimits:
    shown = limits or PLATFORM_LIMITS
    return pb.ContactLimits(
        per_day=shown.per_day,
        per_week=shown.per_week,
        start_hour=shown.start_hour,
        end_hour=shown.end_hour,
        weekdays=sorted(shown.weekdays),
        platform_default=limits is None,
    )


def _stamp(moment) -> Timestamp:  # type: ignore[no-untyped-def]
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


class ContactPlanApi(messaging_pb2_grpc.ContactPlanServiceServicer):
    """Plan templates, contact limits, opt-outs and postponements over gRPC."""

    def __init__(self, units: Callable[[], MessagingUnitOfWork], clock: Clock) -> None:
        self.units = units
        self.clock = clock

    async def SetPlanTemplate(
        self, request: pb.SetPlanTemplateRequest, context: grpc.aio.ServicerContext
    ) -> pb.PlanTemplate:
        kind, owner = _tenant("creditor", "provider")
        strategy = request.strategy.strip() or ANY_STRATEGY
        steps = None if request.remove else _steps(request)
        async with self.units() as uow:
            await contact_settings.set_plan_template(
                uow, owner_kind=kind, owner_id=owner, strategy=strategy, steps=steps
            )
        return await self.GetPlanTemplate(pb.GetPlanTemplateRequest(strategy=strategy), context)

    async def GetPlanTemplate(
        self, request: pb.GetPlanTemplateRequest, context: grpc.aio.ServicerContext
    ) -> pb.PlanTemplate:
        kind, owner = _tenant("creditor", "provider")
        strategy = request.strategy.strip() or ANY_STRATEGY
        async with self.units() as uow:
            own = await uow.preferences.template(kind, owner, strategy)
        if own is not None:
            return _template_reply(strategy, own.steps, False)
        default = PLATFORM_DEFAULTS.get(strategy, AMICABLE)
        return _template_reply(strategy, default.steps, True)

    async def SetContactLimits(
        self, request: pb.SetContactLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ContactLimits:
        _, creditor_id = _tenant("creditor")
        asked = request.limits
        limits = (
            None
            if request.reset
            else ContactLimits(
                per_day=asked.per_day,
                per_week=asked.per_week,
                start_hour=asked.start_hour,
                end_hour=asked.end_hour,
                weekdays=frozenset(asked.weekdays),
            )
        )
        async with self.units() as uow:
            await contact_settings.set_contact_limits(uow, creditor_id=creditor_id, limits=limits)
        return _limits_reply(limits)

    async def GetContactLimits(
        self, request: pb.GetContactLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ContactLimits:
        _, creditor_id = _tenant("creditor")
        async with self.units() as uow:
            return _limits_reply(await contact_settings.effective_limits(uow, creditor_id))

    async def RefuseChannel(
        self, request: pb.RefuseChannelRequest, context: grpc.aio.ServicerContext
    ) -> pb.RefuseChannelResponse:
        caller = _caller()
        if request.channel not in CHANNELS:
            raise InvalidField("channel", "email or sms")
        case_id = request.case_id.strip()
        if not case_id:
            raise InvalidField("case_id", "is required")
        tenant = caller.tenant_id or ""
        async with self.units() as uow:
            if caller.kind == DEBTOR:
                if tenant != case_id:
                    raise NotFound("case_id: no such case")
                contact = await contact_settings.case_for(uow, case_id, any_party=True)
            elif caller.kind == "creditor":
                contact = await contact_settings.case_for(uow, case_id, creditor_id=tenant)
            elif caller.kind == "provider":
                contact = await contact_settings.case_for(uow, case_id, holder_id=tenant)
            else:
                raise PermissionDenied("caller: only the debtor, the creditor or the holder")
            await contact_settings.refuse_channel(
                uow, contact=contact, channel=CHANNELS[request.channel], now=self.clock.now()
            )
        return pb.RefuseChannelResponse()

    async def ListPostponements(
        self, request: pb.ListPostponementsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPostponementsResponse:
        _, creditor_id = _tenant("creditor")
        async with self.units() as uow:
            found = await contact_settings.postponements_of(uow, creditor_id, request.case_id)
        return pb.ListPostponementsResponse(
            postponements=[
                pb.Postponement(
                    case_id=p.case_id,
                    step=p.step,
                    wanted_at=_stamp(p.wanted_at),
                    moved_to=_stamp(p.moved_to),
                    reasons=list(p.reasons),
                )
                for p in found
            ]
        )
