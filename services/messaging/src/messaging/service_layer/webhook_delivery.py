"""Webhook delivery: one row per event and endpoint, posted signed, retried for three days, then
failed with the endpoint disabled and the creditor told; any delivery may be replayed."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from messaging.domain.webhook_signing import signed_headers, webhook_body
from messaging.domain.webhooks import (
    RESPONSE_EXCERPT_CHARS,
    WebhookDeliveryNotFound,
    WebhookEndpoint,
    is_success,
    next_attempt_at,
    webhook_id,
)
from messaging.service_layer.webhook_ports import (
    DELIVERED,
    FAILED,
    PENDING,
    Attempt,
    Delivery,
    Notice,
    PostOutcome,
    WebhookSender,
    WebhookUnitOfWork,
)
from messaging.service_layer.webhooks import Clock, owned_endpoint

log = logging.getLogger(__name__)

# How long a claimed delivery is hidden from other workers while it is posted; a worker that dies
# mid-post leaves it to be posted again after this (the receiver drops it by its webhook-id).
CLAIM_LEASE = timedelta(minutes=2)
DISABLED_NOTICE = "webhook-endpoint-disabled"


@dataclass(frozen=True)
class WebhookFact:
    """A consumed event, as the webhook path sees it: who owns the case and what to tell."""

    event_id: str
    event_type: str
    creditor_id: str
    case_id: str
    occurred_at: datetime
    data: Mapping[str, Any]


async def enqueue_fact(fact: WebhookFact, uow: WebhookUnitOfWork, *, now: Clock) -> int:
    """One pending delivery per enabled endpoint of the case's creditor that chose this event
    type, in the caller's transaction (the inbox's); returns how many."""
    if not fact.creditor_id:
        return 0
    endpoints = [
        e for e in await uow.webhooks.endpoints_of(fact.creditor_id) if e.wants(fact.event_type)
    ]
    if not endpoints:
        return 0
    body = webhook_body(fact.event_type, fact.occurred_at, fact.data)
    at = now()
    return await uow.webhooks.add_deliveries(
        [
            Delivery(
                delivery_id=str(uuid.uuid4()),
                endpoint_id=endpoint.endpoint_id,
                creditor_id=fact.creditor_id,
                event_id=fact.event_id,
                event_type=fact.event_type,
                case_id=fact.case_id,
                message_id=webhook_id(fact.event_id, endpoint.endpoint_id),
                body=body,
                status=PENDING,
                attempts=0,
                next_attempt_at=at,
                window_started_at=at,
                created_at=at,
            )
            for endpoint in endpoints
        ]
    )


async def _post(
    delivery: Delivery, endpoint: WebhookEndpoint, sender: WebhookSender, sent_at: datetime
) -> PostOutcome:
    headers = signed_headers(
        delivery.message_id, sent_at, delivery.body, endpoint.signing_secrets(sent_at)
    )
    try:
        return await sender.post(endpoint.url, headers, delivery.body)
    except Exception as exc:  # an unexpected sender fault is one failed attempt, logged
        log.exception("webhook %s to endpoint %s", delivery.message_id, endpoint.endpoint_id)
        return PostOutcome(status_code=None, latency_ms=0, error=type(exc).__name__)


async def _record(
    delivery: Delivery,
    endpoint: WebhookEndpoint,
    outcome: PostOutcome,
    sent_at: datetime,
    uow: WebhookUnitOfWork,
    jitter: Callable[[], float],
) -> None:
    attempts = delivery.attempts + 1
    await uow.webhooks.add_attempt(
        Attempt(
            delivery_id=delivery.delivery_id,
            attempted_at=sent_at,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            error=outcome.error[:RESPONSE_EXCERPT_CHARS],
            response_excerpt=outcome.response_excerpt[:RESPONSE_EXCERPT_CHARS],
        )
    )
    tried = replace(delivery, attempts=attempts, last_status_code=outcome.status_code)
    if is_success(outcome.status_code):
        delivered = replace(tried, status=DELIVERED, next_attempt_at=None, delivered_at=sent_at)
        await uow.webhooks.save_delivery(delivered)
        return
    retry_at = next_attempt_at(delivery.window_started_at, sent_at, attempts, jitter)
    if retry_at is not None:
        await uow.webhooks.save_delivery(replace(tried, next_attempt_at=retry_at))
        return
    await uow.webhooks.save_delivery(replace(tried, status=FAILED, next_attempt_at=None))
    await _disable(endpoint, delivery, sent_at, uow)


async def _disable(
    endpoint: WebhookEndpoint, delivery: Delivery, at: datetime, uow: WebhookUnitOfWork
) -> None:
    current = await uow.webhooks.endpoint(endpoint.creditor_id, endpoint.endpoint_id)
    if current is None or not current.enabled:
        return
    reason = f"every attempt failed for three days (delivery {delivery.delivery_id})"
    await uow.webhooks.save_endpoint(replace(current, enabled=False, disabled_reason=reason))
    await uow.webhooks.add_notice(
        Notice(
            notice_id=str(uuid.uuid4()),
            creditor_id=endpoint.creditor_id,
            endpoint_id=endpoint.endpoint_id,
            kind=DISABLED_NOTICE,
            text=(
                f"Your webhook endpoint {endpoint.url} was disabled: {reason}. Fix it, enable it "
                "again and replay the failed deliveries from the delivery log."
            ),
            created_at=at,
        )
    )


async def deliver_due(
    units: Callable[[], WebhookUnitOfWork],
    sender: WebhookSender,
    *,
    now: Clock,
    jitter: Callable[[], float],
    limit: int = 20,
) -> int:
    """Claim the due deliveries, post them together, record each outcome in its own
    transaction; returns how many were posted."""
    async with units() as uow:
        claimed = await uow.webhooks.claim_due(now(), CLAIM_LEASE, limit)
        await uow.commit()
    if not claimed:
        return 0

    async def one(delivery: Delivery, endpoint: WebhookEndpoint) -> None:
        sent_at = now()
        outcome = await _post(delivery, endpoint, sender, sent_at)
        async with units() as uow:
            await _record(delivery, endpoint, outcome, sent_at, uow, jitter)
            await uow.commit()

    await asyncio.gather(*(one(delivery, endpoint) for delivery, endpoint in claimed))
    return len(claimed)


async def replay_delivery(
    creditor_id: str, delivery_id: str, uow: WebhookUnitOfWork, *, now: Clock
) -> Delivery:
    """Post the delivery again now, with the same webhook-id and body, and a fresh three days of
    retries; its earlier attempts stay in the log."""
    async with uow:
        found = await uow.webhooks.delivery(creditor_id, delivery_id)
        if found is None:
            raise WebhookDeliveryNotFound("delivery_id: no such webhook delivery")
        at = now()
        replayed = replace(found, status=PENDING, next_attempt_at=at, window_started_at=at)
        await uow.webhooks.save_delivery(replayed)
        await uow.commit()
    return replayed


async def delivery_log(
    creditor_id: str, endpoint_id: str, uow: WebhookUnitOfWork, *, limit: int = 50
) -> list[tuple[Delivery, list[Attempt]]]:
    """The endpoint's latest deliveries with every attempt (status, latency, answer's start)."""
    async with uow:
        await owned_endpoint(uow, creditor_id, endpoint_id)
        return await uow.webhooks.deliveries_of(creditor_id, endpoint_id, min(max(limit, 1), 200))
