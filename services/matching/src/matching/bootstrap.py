"""Wires matching's adapters once: the only place that knows which pieces make the service."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from matching.adapters.retention import RETENTION_RULES
from matching.adapters.unit_of_work import unit_of_work_factory
from matching.config import MatchingSettings
from matching.domain.auction import Smoothing
from matching.domain.clock import Clock
from matching.domain.fees import FeeBounds
from matching.domain.rules import MatchingConfig, MatchingRules
from matching.entrypoints.bidding_api import BiddingApi
from matching.entrypoints.case_fact_consumers import CaseFactConsumers
from matching.entrypoints.debtor_fact_consumers import DebtorFactConsumers, debtor_subscriptions
from matching.entrypoints.provider_directory_api import ProviderDirectoryApi
from matching.entrypoints.quote_api import QuoteApi
from matching.entrypoints.settlement_consumers import SettlementConsumers
from matching.entrypoints.timer_loop import TimerLoop
from matching.service_layer.outgoing import PUBLISHED, SERVICE
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentReceived, PaymentReversed
from recouvra.matching.v1 import bidding_pb2, bidding_pb2_grpc
from recouvra_shared.clocks import OffsetFileClock, SystemClock
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import FetchGathering, Subscription
from recouvra_shared.runtime import ServiceParts, Wiring

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)
CASE_WITHDRAWN_TOPIC = topic_name("intake", "case-withdrawn", 1)
PAYMENT_DECLARED_TOPIC = topic_name("intake", "payment-declared", 1)
CASE_SCORED_TOPIC = topic_name("scoring", "case-scored", 1)
PAYMENT_RECEIVED_TOPIC = topic_name("settlement", "payment-received", 1)
PAYMENT_REVERSED_TOPIC = topic_name("settlement", "payment-reversed", 1)


def matching_config(settings: MatchingSettings) -> MatchingConfig:
    """The marketplace rules from the settings."""
    return MatchingConfig(
        rules=MatchingRules(
            bidding_period=timedelta(minutes=settings.bidding_minutes),
            provider_accept_period=timedelta(hours=settings.provider_accept_hours),
            extension=timedelta(days=settings.extension_days),
            max_extension=timedelta(days=settings.max_extension_days),
            max_rounds=settings.max_rounds,
        ),
        bounds=FeeBounds(Decimal(settings.min_fee_percent), Decimal(settings.max_fee_percent)),
        smoothing=Smoothing(Decimal(settings.smoothing_prior_weight)),
        default_window_days=settings.default_window_days,
    )


def build(wiring: Wiring) -> ServiceParts:
    """Matching serves the bidding, quote and provider APIs, consumes case facts, scores and
    settlement's money received and reversed, and fires its durable timers in the background."""
    settings = wiring.settings
    assert isinstance(settings, MatchingSettings)
    clock: Clock = (
        OffsetFileClock(Path(settings.clock_offset_file))
        if settings.clock_offset_file
        else SystemClock()
    )
    config = matching_config(settings)
    units = unit_of_work_factory(wiring.database)
    bidding = BiddingApi(units, clock, config)
    quotes = QuoteApi(units, clock, config)
    directory = ProviderDirectoryApi(units, clock)
    consumers = CaseFactConsumers(clock, config)
    money = SettlementConsumers(clock, config)
    timers = TimerLoop(units, clock, config, poll_seconds=settings.timer_poll_seconds)
    services = bidding_pb2.DESCRIPTOR.services_by_name
    # The case facts come at the marketplace's rate, and an auction opens on the second of two:
    # fetched fuller, both subscriptions pay their transactions' fixed cost less often.
    case_facts = FetchGathering(
        settings.case_facts_fetch_min_bytes, settings.case_facts_fetch_max_wait_ms
    )
    return ServiceParts(
        grpc_services=[
            (
                services["BiddingService"].full_name,
                lambda server: bidding_pb2_grpc.add_BiddingServiceServicer_to_server(
                    bidding, server
                ),
            ),
            (
                services["QuoteService"].full_name,
                lambda server: bidding_pb2_grpc.add_QuoteServiceServicer_to_server(quotes, server),
            ),
            (
                services["ProviderDirectoryService"].full_name,
                lambda server: bidding_pb2_grpc.add_ProviderDirectoryServiceServicer_to_server(
                    directory, server
                ),
            ),
        ],
        subscriptions=[
            Subscription(
                CASE_SUBMITTED_TOPIC,
                SERVICE,
                CaseSubmitted,
                consumers.on_case_submitted,
                prepare=consumers.before_submissions,
                gather=case_facts,
            ),
            Subscription(
                CASE_SCORED_TOPIC,
                f"{SERVICE}-scores",
                CaseScored,
                consumers.on_case_scored,
                prepare=consumers.before_scores,
                gather=case_facts,
            ),
            Subscription(
                PAYMENT_DECLARED_TOPIC,
                f"{SERVICE}-payments",
                PaymentDeclared,
                consumers.on_payment_declared,
            ),
            Subscription(
                CASE_WITHDRAWN_TOPIC,
                f"{SERVICE}-withdrawals",
                CaseWithdrawn,
                consumers.on_case_withdrawn,
            ),
            Subscription(
                PAYMENT_RECEIVED_TOPIC,
                f"{SERVICE}-bank-received",
                PaymentReceived,
                money.on_payment_received,
            ),
            Subscription(
                PAYMENT_REVERSED_TOPIC,
                f"{SERVICE}-bank-reversed",
                PaymentReversed,
                money.on_payment_reversed,
            ),
            *debtor_subscriptions(DebtorFactConsumers(clock, config)),
        ],
        unit_of_work=units,
        published_topics=[topic_name(SERVICE, *event) for event in PUBLISHED],
        background=[timers.run],
        on_stop=[timers.stop],
        retention=RETENTION_RULES,
    )
