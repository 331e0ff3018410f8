"""Wires intake's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from intake.entrypoints.grpc_api import IntakeApi
from intake.service_layer.handlers import CASE_SUBMITTED, SERVICE
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.runtime import ServiceParts, Wiring


def build(wiring: Wiring) -> ServiceParts:
    """Intake serves IntakeService and publishes case events."""
    api = IntakeApi(wiring.database)
    return ServiceParts(
        grpc_services=[
            (
                intake_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
                lambda server: intake_pb2_grpc.add_IntakeServiceServicer_to_server(api, server),
            )
        ],
        published_topics=[topic_name(SERVICE, *CASE_SUBMITTED)],
    )
