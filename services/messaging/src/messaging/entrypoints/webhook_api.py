"""The WebhookService: a creditor manages its own endpoints; requests to commands, results to
replies, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from messaging.domain.webhooks import WebhookEndpoint
from messaging.service_layer import webhook_delivery, webhooks
from messaging.service_layer.webhook_ports import Attempt, Delivery, Resolver, WebhookUnitOfWork
from recouvra.messaging.v1 import webhooks_pb2, webhooks_pb2_grpc
from recouvra_shared.context import caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated

SERVICE_NAME = webhooks_pb2.DESCRIPTOR.services_by_name["WebhookService"].full_name


def acting_creditor() -> str:
    """The creditor whose endpoints the caller manages: a creditor's own, nobody else's."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("the call names no caller")
    if caller.kind != "creditor" or not caller.tenant_id:
        raise PermissionDenied("only a creditor manages its webhook endpoints")
    return caller.tenant_id


def _timestamp(at: datetime | None) -> Timestamp | None:
    if at is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(at)
    return stamp


def endpoint_reply(endpoint: WebhookEndpoint, now: datetime) -> webhooks_pb2.WebhookEndpoint:
    """The endpoint as the API shows it (never its secrets)."""
    rotating = len(endpoint.signing_secrets(now)) > 1
    return webhooks_pb2.WebhookEndpoint(
        endpoint_id=endpoint.endpoint_id,
        url=endpoint.url,
        event_types=list(endpoint.event_types),
        description=endpoint.description,
        enabled=endpoint.enabled,
        disabled_reason=endpoint.disabled_reason,
        created_at=_timestamp(endpoint.created_at),
        previous_secret_until=_timestamp(endpoint.previous_secret_until if rotating else None),
    )


def delivery_reply(
    delivery: Delivery, attempts: list[Attempt] | None = None
) -> webhooks_pb2.WebhookDelivery:
    """A delivery and its attempts, as the delivery log shows them."""
    return webhooks_pb2.WebhookDelivery(
        delivery_id=delivery.delivery_id,
        endpoint_id=delivery.endpoint_id,
        message_id=delivery.message_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        case_id=delivery.case_id,
        status=delivery.status,
        attempts=delivery.attempts,
        next_attempt_at=_timestamp(delivery.next_attempt_at),
        created_at=_timestamp(delivery.created_at),
        attempt_log=[
            webhooks_pb2.WebhookAttempt(
                attempted_at=_timestamp(a.attempted_at),
                status_code=a.status_code or 0,
                latency_ms=max(a.latency_ms, 0),
                error=a.error,
                response_excerpt=a.response_excerpt,
            )
            for a in attempts or []
        ],
    )


class WebhookApi(webhooks_pb2_grpc.WebhookServiceServicer):
    """The WebhookService servicer."""

    def __init__(
        self,
        units: Callable[[], WebhookUnitOfWork],
        policy: webhooks.WebhookPolicy,
        resolve: Resolver,
        now: Callable[[], datetime],
    ) -> None:
        self.units = units
        self.policy = policy
        self.resolve = resolve
        self.now = now

    def _with_secret(self, endpoint: WebhookEndpoint) -> webhooks_pb2.WebhookEndpointWithSecret:
        return webhooks_pb2.WebhookEndpointWithSecret(
            endpoint=endpoint_reply(endpoint, self.now()), secret=endpoint.secret
        )

    async def CreateWebhookEndpoint(
        self,
        request: webhooks_pb2.CreateWebhookEndpointRequest,
        context: grpc.aio.ServicerContext,
    ) -> webhooks_pb2.WebhookEndpointWithSecret:
        endpoint = await webhooks.register_endpoint(
            webhooks.RegisterEndpoint(
                creditor_id=acting_creditor(),
                url=request.url,
                event_types=list(request.event_types),
                description=request.description,
            ),
            self.units(),
            policy=self.policy,
            resolve=self.resolve,
            now=self.now,
        )
        return self._with_secret(endpoint)

    async def ListWebhookEndpoints(
        self,
        request: webhooks_pb2.ListWebhookEndpointsRequest,
        context: grpc.aio.ServicerContext,
    ) -> webhooks_pb2.WebhookEndpointList:
        found = await webhooks.endpoints_of(acting_creditor(), self.units())
        now = self.now()
        return webhooks_pb2.WebhookEndpointList(endpoints=[endpoint_reply(e, now) for e in found])

    async def UpdateWebhookEndpoint(
        self,
        request: webhooks_pb2.UpdateWebhookEndpointRequest,
        context: grpc.aio.ServicerContext,
    ) -> webhooks_pb2.WebhookEndpoint:
        endpoint = await webhooks.change_endpoint(
            webhooks.ChangeEndpoint(
                creditor_id=acting_creditor(),
                endpoint_id=request.endpoint_id,
                url=request.url if request.HasField("url") else None,
                event_types=list(request.event_types) if request.change_event_types else None,
                description=request.description if request.HasField("description") else None,
                enabled=request.enabled if request.HasField("enabled") else None,
            ),
            self.units(),
            policy=self.policy,
            resolve=self.resolve,
        )
        return endpoint_reply(endpoint, self.now())

    async def DeleteWebhookEndpoint(
        self, request: webhooks_pb2.WebhookEndpointRef, context: grpc.aio.ServicerContext
    ) -> webhooks_pb2.DeleteWebhookEndpointReply:
        await webhooks.remove_endpoint(acting_creditor(), request.endpoint_id, self.units())
        return webhooks_pb2.DeleteWebhookEndpointReply()

    async def RotateWebhookSecret(
        self, request: webhooks_pb2.WebhookEndpointRef, context: grpc.aio.ServicerContext
    ) -> webhooks_pb2.WebhookEndpointWithSecret:
        endpoint = await webhooks.rotate_secret(
            acting_creditor(), request.endpoint_id, self.units(), now=self.now
        )
        return self._with_secret(endpoint)

    async def ListWebhookDeliveries(
        self,
        request: webhooks_pb2.ListWebhookDeliveriesRequest,
        context: grpc.aio.ServicerContext,
    ) -> webhooks_pb2.WebhookDeliveryList:
        found = await webhook_delivery.delivery_log(
            acting_creditor(), request.endpoint_id, self.units(), limit=request.limit or 50
        )
        return webhooks_pb2.WebhookDeliveryList(
            deliveries=[delivery_reply(d, attempts) for d, attempts in found]
        )

    async def ReplayWebhookDelivery(
        self,
        request: webhooks_pb2.ReplayWebhookDeliveryRequest,
        context: grpc.aio.ServicerContext,
    ) -> webhooks_pb2.WebhookDelivery:
        replayed = await webhook_delivery.replay_delivery(
            acting_creditor(), request.delivery_id, self.units(), now=self.now
        )
        return delivery_reply(replayed)
