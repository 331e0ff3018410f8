"""Messaging's WebhookService as the gateway uses it, in the gateway's REST shapes; a foreign
endpoint or delivery reads as missing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from gateway.adapters.calls import unary
from gateway.schemas.webhooks import (
    WebhookAttemptView,
    WebhookDeliveryList,
    WebhookDeliveryView,
    WebhookEndpointChange,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from recouvra.messaging.v1 import webhooks_pb2 as pb
from recouvra_shared.context import Caller

NO_ENDPOINT = "endpoint: no such webhook endpoint"
NO_DELIVERY = "delivery: no such webhook delivery"


def _time(message: Any, name: str) -> datetime | None:
    if not message.HasField(name):
        return None
    stamp: Timestamp = getattr(message, name)
    return stamp.ToDatetime(tzinfo=UTC)


def endpoint_view(endpoint: pb.WebhookEndpoint) -> WebhookEndpointView:
    return WebhookEndpointView(
        id=endpoint.endpoint_id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=_time(endpoint, "created_at"),
        previous_secret_until=_time(endpoint, "previous_secret_until"),
    )


def with_secret(reply: pb.WebhookEndpointWithSecret) -> WebhookEndpointWithSecret:
    return WebhookEndpointWithSecret(
        **endpoint_view(reply.endpoint).model_dump(), secret=reply.secret
    )


def delivery_view(delivery: pb.WebhookDelivery) -> WebhookDeliveryView:
    return WebhookDeliveryView(
        id=delivery.delivery_id,
        endpoint_id=delivery.endpoint_id,
        webhook_id=delivery.message_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        case_id=delivery.case_id,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=_time(delivery, "next_attempt_at"),
        created_at=_time(delivery, "created_at"),
        attempt_log=[
            WebhookAttemptView(
                attempted_at=_time(a, "attempted_at"),
                status_code=a.status_code or None,
                latency_ms=a.latency_ms,
                error=a.error,
                response_excerpt=a.response_excerpt,
            )
            for a in delivery.attempt_log
        ],
    )


class WebhookClient:
    """Typed calls to messaging's WebhookService, always as the creditor a call acts for."""

    def __init__(self, stub: Any) -> None:
        self.stub = stub

    async def create(self, caller: Caller, body: WebhookEndpointIn) -> WebhookEndpointWithSecret:
        reply = await unary(
            self.stub.CreateWebhookEndpoint,
            pb.CreateWebhookEndpointRequest(
                url=body.url, event_types=list(body.event_types), description=body.description
            ),
            caller,
        )
        return with_secret(reply)

    async def list(self, caller: Caller) -> WebhookEndpointList:
        reply = await unary(
            self.stub.ListWebhookEndpoints, pb.ListWebhookEndpointsRequest(), caller
        )
        return WebhookEndpointList(items=[endpoint_view(e) for e in reply.endpoints])

    async def change(
        self, caller: Caller, endpoint_id: str, body: WebhookEndpointChange
    ) -> WebhookEndpointView:
        request = pb.UpdateWebhookEndpointRequest(endpoint_id=endpoint_id)
        if body.url is not None:
            request.url = body.url
        if body.event_types is not None:
            request.change_event_types = True
            request.event_types.extend(body.event_types)
        if body.description is not None:
            request.description = body.description
        if body.enabled is not None:
            request.enabled = body.enabled
        reply = await unary(self.stub.UpdateWebhookEndpoint, request, caller, NO_ENDPOINT)
        return endpoint_view(reply)

    async def delete(self, caller: Caller, endpoint_id: str) -> None:
        await unary(
            self.stub.DeleteWebhookEndpoint,
            pb.WebhookEndpointRef(endpoint_id=endpoint_id),
            caller,
            NO_ENDPOINT,
        )

    async def rotate(self, caller: Caller, endpoint_id: str) -> WebhookEndpointWithSecret:
        reply = await unary(
            self.stub.RotateWebhookSecret,
            pb.WebhookEndpointRef(endpoint_id=endpoint_id),
            caller,
            NO_ENDPOINT,
        )
        return with_secret(reply)

    async def deliveries(self, caller: Caller, endpoint_id: str, limit: int) -> WebhookDeliveryList:
        reply = await unary(
            self.stub.ListWebhookDeliveries,
            pb.ListWebhookDeliveriesRequest(endpoint_id=endpoint_id, limit=limit),
            caller,
            NO_ENDPOINT,
        )
        return WebhookDeliveryList(items=[delivery_view(d) for d in reply.deliveries])

    async def replay(self, caller: Caller, delivery_id: str) -> WebhookDeliveryView:
        reply = await unary(
            self.stub.ReplayWebhookDelivery,
            pb.ReplayWebhookDeliveryRequest(delivery_id=delivery_id),
            caller,
            NO_DELIVERY,
        )
        return delivery_view(reply)
