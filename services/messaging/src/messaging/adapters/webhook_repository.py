"""The webhook tables behind `WebhookRepository`, on the unit of work's session."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.webhook_secret_box import WebhookSecretBox
from messaging.adapters.webhook_tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoints,
    webhook_notices,
)
from messaging.domain.webhooks import WebhookEndpoint
from messaging.service_layer.webhook_ports import PENDING, Attempt, Delivery, Notice


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _endpoint(row: Any, box: WebhookSecretBox) -> WebhookEndpoint:
    endpoint_id = str(row.endpoint_id)
    return WebhookEndpoint(
        endpoint_id=endpoint_id,
        creditor_id=row.creditor_id,
        url=row.url,
        event_types=tuple(row.event_types),
        secret=box.open(row.secret, endpoint_id),
        previous_secret=box.open(row.previous_secret, endpoint_id) if row.previous_secret else None,
        previous_secret_until=row.previous_secret_until,
        enabled=row.enabled,
        disabled_reason=row.disabled_reason,
        description=row.description,
        created_at=row.created_at,
    )


def _endpoint_values(endpoint: WebhookEndpoint, box: WebhookSecretBox) -> dict[str, Any]:
    values = asdict(endpoint)
    values["endpoint_id"] = uuid.UUID(endpoint.endpoint_id)
    values["event_types"] = list(endpoint.event_types)
    values["secret"] = box.seal(endpoint.secret, endpoint.endpoint_id)
    if endpoint.previous_secret:
        values["previous_secret"] = box.seal(endpoint.previous_secret, endpoint.endpoint_id)
    return values


def _delivery(row: Any) -> Delivery:
    return Delivery(
        delivery_id=str(row.delivery_id),
        endpoint_id=str(row.endpoint_id),
        creditor_id=row.creditor_id,
        event_id=str(row.event_id),
        event_type=row.event_type,
        case_id=row.case_id,
        message_id=row.message_id,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        window_started_at=row.window_started_at,
        created_at=row.created_at,
        last_status_code=row.last_status_code,
        delivered_at=row.delivered_at,
    )


def _delivery_values(delivery: Delivery) -> dict[str, Any]:
    values = asdict(delivery)
    for key in ("delivery_id", "endpoint_id", "event_id"):
        values[key] = uuid.UUID(values[key])
    return values


class SqlWebhookRepository:
    """Endpoints (their secrets sealed), deliveries, attempts and notices in messaging's
    database."""

    def __init__(self, session: AsyncSession, box: WebhookSecretBox) -> None:
        self.session = session
        self.box = box

    async def add_endpoint(self, endpoint: WebhookEndpoint) -> None:
        await self.session.execute(
            insert(webhook_endpoints).values(_endpoint_values(endpoint, self.box))
        )

    async def endpoint(self, creditor_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        key = _uuid(endpoint_id)
        if key is None:
            return None
        row = (
            await self.session.execute(
                select(webhook_endpoints).where(
                    webhook_endpoints.c.endpoint_id == key,
                    webhook_endpoints.c.creditor_id == creditor_id,
                )
            )
        ).first()
        return _endpoint(row, self.box) if row is not None else None

    async def endpoints_of(self, creditor_id: str) -> list[WebhookEndpoint]:
        rows = await self.session.execute(
            select(webhook_endpoints)
            .where(webhook_endpoints.c.creditor_id == creditor_id)
            .order_by(webhook_endpoints.c.created_at, webhook_endpoints.c.endpoint_id)
        )
        return [_endpoint(row, self.box) for row in rows]

    async def save_endpoint(self, endpoint: WebhookEndpoint) -> None:
        values = _endpoint_values(endpoint, self.box)
        await self.session.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.endpoint_id == values.pop("endpoint_id"))
            .values(values)
        )

    async def delete_endpoint(self, creditor_id: str, endpoint_id: str) -> bool:
        key = _uuid(endpoint_id)
        if key is None:
            return False
        result = await self.session.execute(
            delete(webhook_endpoints)
            .where(
                webhook_endpoints.c.endpoint_id == key,
                webhook_endpoints.c.creditor_id == creditor_id,
            )
            .returning(webhook_endpoints.c.endpoint_id)
        )
        return result.first() is not None

    async def add_deliveries(self, deliveries: Sequence[Delivery]) -> int:
        result = await self.session.execute(
            insert(webhook_deliveries)
            .values([_delivery_values(d) for d in deliveries])
            .on_conflict_do_nothing(constraint="webhook_deliveries_once")
            .returning(webhook_deliveries.c.delivery_id)
        )
        return len(result.all())

    async def claim_due(
        self, now: datetime, lease: timedelta, limit: int
    ) -> list[tuple[Delivery, WebhookEndpoint]]:
        rows = (
            await self.session.execute(
                select(webhook_deliveries)
                .join(
                    webhook_endpoints,
                    webhook_endpoints.c.endpoint_id == webhook_deliveries.c.endpoint_id,
                )
                .where(
                    webhook_deliveries.c.status == PENDING,
                    webhook_deliveries.c.next_attempt_at <= now,
                    webhook_endpoints.c.enabled.is_(True),
                )
                .order_by(webhook_deliveries.c.next_attempt_at)
                .limit(limit)
                .with_for_update(of=webhook_deliveries, skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        await self.session.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.delivery_id.in_([row.delivery_id for row in rows]))
            .values(next_attempt_at=now + lease)
        )
        endpoints = {
            str(row.endpoint_id): _endpoint(row, self.box)
            for row in await self.session.execute(
                select(webhook_endpoints).where(
                    webhook_endpoints.c.endpoint_id.in_({row.endpoint_id for row in rows})
                )
            )
        }
        return [(_delivery(row), endpoints[str(row.endpoint_id)]) for row in rows]

    async def delivery(self, creditor_id: str, delivery_id: str) -> Delivery | None:
        key = _uuid(delivery_id)
        if key is None:
            return None
        row = (
            await self.session.execute(
                select(webhook_deliveries).where(
                    webhook_deliveries.c.delivery_id == key,
                    webhook_deliveries.c.creditor_id == creditor_id,
                )
            )
        ).first()
        return _delivery(row) if row is not None else None

    async def save_delivery(self, delivery: Delivery) -> None:
        values = _delivery_values(delivery)
        await self.session.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.delivery_id == values.pop("delivery_id"))
            .values(values)
        )

    async def add_attempt(self, attempt: Attempt) -> None:
        values = asdict(attempt)
        values["delivery_id"] = uuid.UUID(attempt.delivery_id)
        await self.session.execute(insert(webhook_attempts).values(values))

    async def deliveries_of(
        self, creditor_id: str, endpoint_id: str, limit: int
    ) -> list[tuple[Delivery, list[Attempt]]]:
        key = _uuid(endpoint_id)
        if key is None:
            return []
        rows = (
            await self.session.execute(
                select(webhook_deliveries)
                .where(
                    webhook_deliveries.c.endpoint_id == key,
                    webhook_deliveries.c.creditor_id == creditor_id,
                )
                .order_by(webhook_deliveries.c.created_at.desc())
                .limit(limit)
            )
        ).all()
        deliveries = [_delivery(row) for row in rows]
        attempts: dict[str, list[Attempt]] = {d.delivery_id: [] for d in deliveries}
        if deliveries:
            found = await self.session.execute(
                select(webhook_attempts)
                .where(webhook_attempts.c.delivery_id.in_([row.delivery_id for row in rows]))
                .order_by(webhook_attempts.c.attempt_id)
            )
            for row in found:
                attempts[str(row.delivery_id)].append(
                    Attempt(
                        delivery_id=str(row.delivery_id),
                        attempted_at=row.attempted_at,
                        status_code=row.status_code,
                        latency_ms=row.latency_ms,
                        error=row.error,
                        response_excerpt=row.response_excerpt,
                    )
                )
        return [(d, attempts[d.delivery_id]) for d in deliveries]

    async def add_notice(self, notice: Notice) -> None:
        values = asdict(notice)
        values["notice_id"] = uuid.UUID(notice.notice_id)
        values["endpoint_id"] = uuid.UUID(notice.endpoint_id)
        await self.session.execute(insert(webhook_notices).values(values))
