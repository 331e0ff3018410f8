"""Prometheus metrics every service exposes: what an on-call engineer looks at first.

Requests (`grpc_server`, `http_routes`), Kafka (dead letters written, relay publishes, consumer lag
and the age of the oldest unhandled event), the outbox (backlog, age of its oldest unsent row),
the database pool, and the business: facts committed (cases submitted, scored, quoted, awarded,
money received) and each service's own readings (messages sent and postponed, payouts pending,
creditor funds held). `exposition.ServiceMetrics` serves them on the service's metrics port and
samples what must be read from the database or from Kafka. The catalogue below is the one list of
names; `k8s/monitoring/` holds the rules and alerts written against them.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable

from prometheus_client import Counter, Histogram

from recouvra.events.v1.settlement_events_pb2 import PaymentReceived
from recouvra_shared.events import unpack
from recouvra_shared.unit_of_work import OutgoingEvent

# Seconds: a gRPC call or an HTTP request; the objectives in k8s/monitoring use 0.25 s and 1 s.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

GRPC_HANDLED = Counter(
    "recouvra_grpc_server_handled",
    "gRPC calls answered, per method and status code.",
    ["grpc_method", "grpc_code"],
)
GRPC_SECONDS = Histogram(
    "recouvra_grpc_server_handling_seconds",
    "Time to answer a gRPC call, per method.",
    ["grpc_method"],
    buckets=LATENCY_BUCKETS,
)
GRPC_PROCESS_RESTARTS = Counter(
    "recouvra_grpc_process_restarts",
    "gRPC processes after a service's first that died alone and were started again.",
)
HTTP_REQUESTS = Counter(
    "recouvra_http_requests",
    "HTTP requests answered, per route template, method and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "recouvra_http_request_duration_seconds",
    "Time to answer an HTTP request, per route template and method.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
DEAD_LETTERS = Counter(
    "recouvra_dead_letters",
    "Messages a consumer gave up on and wrote to a dead-letter topic, per dead-letter topic.",
    ["topic"],
)
OUTBOX_PUBLISHED = Counter(
    "recouvra_outbox_published",
    "Outbox rows the relay published and Kafka acknowledged, per topic.",
    ["topic"],
)
OUTBOX_MOVED_ASIDE = Counter(
    "recouvra_outbox_moved_aside",
    "Outbox rows Kafka kept refusing, moved to outbox_dead_letters, per topic.",
    ["topic"],
)
EVENTS_COMMITTED = Counter(
    "recouvra_events_committed",
    "Facts committed with the state they describe (outbox rows written), per topic.",
    ["topic"],
)
CASES_SUBMITTED = Counter("recouvra_cases_submitted", "Cases creditors submitted.")
CASES_SCORED = Counter("recouvra_cases_scored", "Cases scored.")
CASES_QUOTED = Counter("recouvra_cases_quoted", "Quotes issued to creditors.")
CASES_AWARDED = Counter("recouvra_cases_awarded", "Cases assigned to a provider (every round).")
RECOVERED_MINOR = Counter(
    "recouvra_recovered_amount_minor",
    "Money received from debtors, in minor units (cents), per currency.",
    ["currency"],
)

# Facts that are business milestones: counted once, when the transaction recording them commits.
MILESTONES: dict[str, Counter] = {
    "intake.case-submitted.v1": CASES_SUBMITTED,
    "scoring.case-scored.v1": CASES_SCORED,
    "matching.quote-issued.v1": CASES_QUOTED,
    "matching.case-assigned.v1": CASES_AWARDED,
}
PAYMENT_RECEIVED_TOPIC = "settlement.payment-received.v1"


class CommittedFacts:
    """What a transaction's facts will count once it commits (per topic, the business
    milestones, the money received), gathered as they are recorded: the events themselves are
    not kept until the commit (an import's 100,000 envelopes were half of intake's memory)."""

    def __init__(self) -> None:
        self.per_topic: collections.Counter[str] = collections.Counter()
        self.received_minor: collections.Counter[str] = collections.Counter()

    def add(self, events: Iterable[OutgoingEvent]) -> None:
        for event in events:
            self.per_topic[event.topic] += 1
            if event.topic == PAYMENT_RECEIVED_TOPIC:
                amount = unpack(event.envelope, PaymentReceived).amount
                self.received_minor[amount.currency or "EUR"] += amount.minor_units

    def __bool__(self) -> bool:
        return bool(self.per_topic)

    def count(self) -> None:
        """The transaction committed: count its facts."""
        for topic, facts in self.per_topic.items():
            EVENTS_COMMITTED.labels(topic).inc(facts)
            milestone = MILESTONES.get(topic)
            if milestone is not None:
                milestone.inc(facts)
        for currency, minor_units in self.received_minor.items():
            RECOVERED_MINOR.labels(currency).inc(minor_units)


def expect_dead_letters(topic: str) -> None:
    """Show a dead-letter topic at 0 before its first letter, so an increase is seen at once."""
    DEAD_LETTERS.labels(topic)
