"""Wires scoring's adapters once."""

from __future__ import annotations

from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.kafka import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from scoring.entrypoints.grpc_api import ScoringApi
from scoring.service_layer.handlers import CASE_SCORED, SERVICE, on_case_submitted

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)


def build(wiring: Wiring) -> ServiceParts:
    """Scoring serves ScoringService, consumes case-submitted and publishes case-scored."""
    api = ScoringApi(wiring.database)
    return ServiceParts(
        grpc_services=[
            (
                scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name,
                lambda server: scoring_pb2_grpc.add_ScoringServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=[Subscription(CASE_SUBMITTED_TOPIC, SERVICE, on_case_submitted)],
        published_topics=[topic_name(SERVICE, *CASE_SCORED)],
    )
