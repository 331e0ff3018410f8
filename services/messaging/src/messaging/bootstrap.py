"""Wires messaging's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from pathlib import Path

from messaging.adapters.calendar import FrenchHolidays
from messaging.adapters.clock import OffsetFileClock, SystemClock
from messaging.adapters.unit_of_work import messaging_units
from messaging.adapters.unwired_dispatcher import UnwiredDispatcher
from messaging.config import MessagingSettings
from messaging.domain.clock import Clock
from messaging.entrypoints.contact_plan_api import SERVICE_NAME as CONTACT_PLANS
from messaging.entrypoints.contact_plan_api import ContactPlanApi
from messaging.entrypoints.plan_events import PlanEventConsumers, plan_subscriptions
from messaging.entrypoints.plan_timers import PlanTimerLoop
from messaging.service_layer.unit_of_work import Dispatcher
from recouvra.messaging.v1 import messaging_pb2_grpc
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """Messaging follows the case's facts into contact plans, fires their durable timers and
    serves the plan templates, contact limits and opt-outs over gRPC."""
    settings = wiring.settings
    assert isinstance(settings, MessagingSettings)
    clock: Clock = (
        OffsetFileClock(Path(settings.clock_offset_file))
        if settings.clock_offset_file
        else SystemClock()
    )
    units = messaging_units(wiring.database)
    dispatcher: Dispatcher = UnwiredDispatcher()
    timers = PlanTimerLoop(
        units, clock, dispatcher, FrenchHolidays(), poll_seconds=settings.timer_poll_seconds
    )
    contact_plans = ContactPlanApi(units, clock)
    return ServiceParts(
        grpc_services=[
            (
                CONTACT_PLANS,
                lambda server: messaging_pb2_grpc.add_ContactPlanServiceServicer_to_server(
                    contact_plans, server
                ),
            )
        ],
        subscriptions=plan_subscriptions(PlanEventConsumers(clock)),
        unit_of_work=units,
        background=[timers.run],
        on_stop=[timers.stop],
    )
