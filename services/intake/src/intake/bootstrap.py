"""Wires intake's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from intake.entrypoints.grpc_api import IntakeApi
from intake.service_layer.handlers import (
    CASE_SCORED_TOPIC,
    CASE_SUBMITTED,
    CASE_WITHDRAWN,
    PAYMENT_DECLARED,
    SERVICE,
    on_case_scored,
)
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """Intake serves IntakeService, publishes case events, and puts other services' case
    facts on the case timeline."""
    api = IntakeApi(wiring.database)
    return ServiceParts(
        grpc_services=[
            (
                intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
                lambda server: intake_pb2_grpc.add_IntakeServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=[
            # Other services' facts about a case go on its timeline.
            Subscription(
                topic_name(*CASE_SCORED_TOPIC), f"{SERVICE}-timeline", CaseScored, on_case_scored
            ),
        ],
        published_topics=[
            topic_name(SERVICE, *event)
            for event in (CASE_SUBMITTED, CASE_WITHDRAWN, PAYMENT_DECLARED)
        ],
    )
