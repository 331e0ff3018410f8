"""Wires scoring's adapters once."""

from __future__ import annotations

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from scoring.adapters.model_store import FileModelStore
from scoring.adapters.registry import CsvCompanyRegistry
from scoring.config import ScoringSettings
from scoring.entrypoints.grpc_api import ScoringApi
from scoring.service_layer.handlers import CASE_SCORED, SERVICE, ScoringHandlers

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)
PAYMENT_DECLARED_TOPIC = topic_name("intake", "payment-declared", 1)
CASE_WITHDRAWN_TOPIC = topic_name("intake", "case-withdrawn", 1)
CASE_EXHAUSTED_TOPIC = topic_name("matching", "case-exhausted", 1)
PAYMENT_ATTRIBUTED_TOPIC = topic_name("matching", "payment-attributed", 1)


def build(wiring: Wiring) -> ServiceParts:
    """Scoring serves ScoringService, consumes case facts and outcomes, publishes case-scored."""
    settings = wiring.settings
    assert isinstance(settings, ScoringSettings)
    scoring = ScoringHandlers(
        registry=CsvCompanyRegistry(settings.company_registry_file),
        models=FileModelStore(settings.model_dir),
    )
    api = ScoringApi(wiring.database, scoring)
    return ServiceParts(
        grpc_services=[
            (
                scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name,
                lambda server: scoring_pb2_grpc.add_ScoringServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=[
            # "scoring" is the group that has consumed case-submitted since the first version.
            Subscription(CASE_SUBMITTED_TOPIC, SERVICE, CaseSubmitted, scoring.on_case_submitted),
            Subscription(
                PAYMENT_DECLARED_TOPIC,
                f"{SERVICE}-payments",
                PaymentDeclared,
                scoring.on_payment_declared,
            ),
            Subscription(
                CASE_WITHDRAWN_TOPIC,
                f"{SERVICE}-withdrawals",
                CaseWithdrawn,
                scoring.on_case_withdrawn,
            ),
            Subscription(
                CASE_EXHAUSTED_TOPIC,
                f"{SERVICE}-exhausted",
                CaseExhausted,
                scoring.on_case_exhausted,
            ),
            Subscription(
                PAYMENT_ATTRIBUTED_TOPIC,
                f"{SERVICE}-attributed-payments",
                PaymentAttributed,
                scoring.on_payment_attributed,
            ),
        ],
        published_topics=[topic_name(SERVICE, *CASE_SCORED)],
    )
