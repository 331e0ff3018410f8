"""In-memory webhook store, resolver, sender and clock for the webhook unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Self

from messaging.domain.webhooks import WebhookEndpoint
from messaging.service_layer.webhook_ports import (
    PENDING,
    Attempt,
    Delivery,
    Notice,
    PostOutcome,
)
from recouvra_shared.testing import FakeUnitOfWork


@dataclass
class WebhookTables:
    endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    deliveries: dict[str, Delivery] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


class FakeWebhookRepository:
    """The same contract as SqlWebhookRepository, on dictionaries; changes apply at commit."""

    def __init__(self, tables: WebhookTables) -> None:
        self.tables = tables

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.tables.endpoints[endpoint.endpoint_id] = endpoint

    async def endpoint(self, creditor_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        found = self.tables.endpoints.get(endpoint_id)
        return found if found is not None and found.creditor_id == creditor_id else None

    async def endpoints_of(self, creditor_id: str) -> list[WebhookEndpoint]:
        return [e for e in self.tables.endpoints.values() if e.creditor_id == creditor_id]

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.tables.endpoints[endpoint.endpoint_id] = endpoint

    async def delete_endpoint(self, creditor_id: str, endpoint_id: str) -> bool:
        if await self.endpoint(creditor_id, endpoint_id) is None:
            return False
        del self.tables.endpoints[endpoint_id]
        for key in [k for k, d in self.tables.deliveries.items() if d.endpoint_id == endpoint_id]:
            del self.tables.deliveries[key]
        return True

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        taken = {(d.endpoint_id, d.event_id) for d in self.tables.deliveries.values()}
        added = 0
        for delivery in deliveries:
            if (delivery.endpoint_id, delivery.event_id) not in taken:
                self.tables.deliveries[delivery.delivery_id] = delivery
                added += 1
        return added

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int
    ) -> list[tuple[Delivery, WebhookEndpoint]]:
        due = sorted(
            (
                d
                for d in self.tables.deliveries.values()
                if d.status == PENDING
                and d.next_attempt_at is not None
                and d.next_attempt_at <= now
                and self.tables.endpoints[d.endpoint_id].enabled
            ),
            key=lambda d: d.next_attempt_at or now,
        )[:limit]
        for delivery in due:
            self.tables.deliveries[delivery.delivery_id] = replace(
                delivery, next_attempt_at=now + lease
            )
        return [(d, self.tables.endpoints[d.endpoint_id]) for d in due]

    async def delivery(self, creditor_id: str, delivery_id: str) -> Delivery | None:
        found = self.tables.deliveries.get(delivery_id)
        return found if found is not None and found.creditor_id == creditor_id else None

    async def save_delivery(self, delivery: Delivery) -> None:
        self.tables.deliveries[delivery.delivery_id] = delivery

    async def add_attempt(self, attempt: Attempt) -> None:
        self.tables.attempts.append(attempt)

    async def deliveries_of(
        self, creditor_id: str, endpoint_id: str, limit: int
    ) -> list[tuple[Delivery, list[Attempt]]]:
        found = [
            d
            for d in self.tables.deliveries.values()
            if d.endpoint_id == endpoint_id and d.creditor_id == creditor_id
        ]
        found.sort(key=lambda d: d.created_at, reverse=True)
        return [
            (d, [a for a in self.tables.attempts if a.delivery_id == d.delivery_id])
            for d in found[:limit]
        ]

    async def add_notice(self, notice: Notice) -> None:
        self.tables.notices.append(notice)


class FakeWebhookUnitOfWork(FakeUnitOfWork):
    """A unit of work whose webhook changes are kept only when it commits."""

    def __init__(self, stored: WebhookTables) -> None:
        super().__init__()
        self.stored = stored
        self._working = WebhookTables()

    @property
    def webhooks(self) -> FakeWebhookRepository:
        return FakeWebhookRepository(self._working)

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self._working = WebhookTables(
            dict(self.stored.endpoints),
            dict(self.stored.deliveries),
            list(self.stored.attempts),
            list(self.stored.notices),
        )
        return self

    def commit_changes(self) -> None:
        self.stored.endpoints = self._working.endpoints
        self.stored.deliveries = self._working.deliveries
        self.stored.attempts = self._working.attempts
        self.stored.notices = self._working.notices


class FakeResolver:
    """Answers the addresses set per host; unknown hosts resolve to a public address."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}

    async def __call__(self, host: str) -> list[str]:
        return self.answers.get(host, ["93.184.215.14"])


class RecordingSender:
    """Records each post and answers the next status queued (200 once the queue is empty)."""

    def __init__(self, *statuses: int | None) -> None:
        self.statuses = list(statuses)
        self.posts: list[tuple[str, dict[str, str], str]] = []

    async def post(self, url: str, headers: dict[str, str], body: str) -> PostOutcome:
        self.posts.append((url, headers, body))
        status = self.statuses.pop(0) if self.statuses else 200
        return PostOutcome(status_code=status, latency_ms=12, response_excerpt=f"answer {status}")


class ManualClock:
    """A settable clock."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by
