"""What the webhook use cases need: the store of endpoints and deliveries, a resolver, a sender."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from messaging.domain.webhooks import WebhookEndpoint
from recouvra_shared.unit_of_work import UnitOfWorkProtocol

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class Delivery:
    """One event to one endpoint: its fixed body and id, and where its retries stand."""

    delivery_id: str
    endpoint_id: str
    creditor_id: str
    event_id: str
    event_type: str
    case_id: str
    message_id: str
    body: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    window_started_at: datetime
    created_at: datetime
    last_status_code: int | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class Attempt:
    """One POST of a delivery, as the delivery log shows it."""

    delivery_id: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str
    response_excerpt: str


@dataclass(frozen=True)
class Notice:
    """A message to the creditor that the messaging notice path mails (rows not yet mailed)."""

    notice_id: str
    creditor_id: str
    endpoint_id: str
    kind: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class PostOutcome:
    """What one POST gave: a status (None when no answer came), time taken, the answer's start."""

    status_code: int | None
    latency_ms: int
    response_excerpt: str = ""
    error: str = ""


class WebhookRepository(Protocol):
    """Messaging's webhook tables."""

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    async def endpoint(self, creditor_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    async def endpoints_of(self, creditor_id: str) -> list[WebhookEndpoint]: ...

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None: ...

    async def delete_endpoint(self, creditor_id: str, endpoint_id: str) -> bool: ...

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        """Insert, skipping any (endpoint, event) pair already there; returns how many were new."""
        ...

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int
    ) -> list[tuple[Delivery, WebhookEndpoint]]:
        """Pending deliveries due by `now` to enabled endpoints, oldest first, each pushed back by
        `lease` so that another worker skips it while this one posts."""
        ...

    async def delivery(self, creditor_id: str, delivery_id: str) -> Delivery | None: ...

    async def save_delivery(self, delivery: Delivery) -> None: ...

    async def add_attempt(self, attempt: Attempt) -> None: ...

    async def deliveries_of(
        self, creditor_id: str, endpoint_id: str, limit: int
    ) -> list[tuple[Delivery, list[Attempt]]]:
        """The endpoint's latest deliveries, newest first, each with its attempts in order."""
        ...

    async def add_notice(self, notice: Notice) -> None: ...


class WebhookUnitOfWork(UnitOfWorkProtocol, Protocol):
    """The part of messaging's unit of work the webhook use cases use."""

    @property
    def webhooks(self) -> WebhookRepository: ...


class Resolver(Protocol):
    """The addresses a host name resolves to now."""

    async def __call__(self, host: str) -> list[str]: ...


class WebhookSender(Protocol):
    """Posts a signed body to an endpoint, having checked (after resolving its host) that it
    targets no internal address, and connecting to the very address it checked."""

    async def post(self, url: str, headers: dict[str, str], body: str) -> PostOutcome: ...
