"""A creditor's webhooks: endpoints where its cases' events are posted, signed (Standard
Webhooks), and their delivery log with replay, over messaging's WebhookService, always as the
creditor the call acts for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from gateway.entrypoints.api.deps import CurrentCaller, Webhooks
from gateway.entrypoints.api.idempotency import Idempotent, Outcome
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.common import plain_text
from gateway.schemas.webhooks import (
    WebhookDeliveryList,
    WebhookDeliveryView,
    WebhookEndpointChange,
    WebhookEndpointIn,
    WebhookEndpointList,
    WebhookEndpointView,
    WebhookEndpointWithSecret,
)
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=problem_responses(401, 403))

EndpointId = Annotated[
    str, Path(max_length=64, description="A webhook endpoint's id"), AfterValidator(plain_text)
]
DeliveryId = Annotated[
    str,
    Path(max_length=64, description="A delivery's id, from the delivery log"),
    AfterValidator(plain_text),
]
ERRORS = problem_responses(401, 403, 404, 422, 503)


@router.post(
    "",
    summary="Register a webhook endpoint (its signing secret is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookEndpointWithSecret,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def create_endpoint(
    body: WebhookEndpointIn, caller: CurrentCaller, webhooks: Webhooks, once: Idempotent
) -> JSONResponse:
    """Events of your cases you chose are posted to `url` as JSON (`type`, `timestamp`,
    `data`), signed with the headers webhook-id, webhook-timestamp and webhook-signature;
    a failed post is retried with backoff for three days, then the endpoint is disabled and you
    are told by e-mail."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        view = (await webhooks.create(caller.as_creditor, body)).model_dump(mode="json")
        return Outcome(status.HTTP_201_CREATED, view, replay_body=view | {"secret": None})

    return await once.answer(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, **body.model_dump(mode="json")},
        effect,
    )


@router.get(
    "", summary="Your webhook endpoints", response_model=WebhookEndpointList, responses=ERRORS
)
async def list_endpoints(caller: CurrentCaller, webhooks: Webhooks) -> WebhookEndpointList:
    """Oldest first; never their secrets."""
    return await webhooks.list(caller.as_creditor)


@router.patch(
    "/{endpoint_id}",
    summary="Change an endpoint, or enable it again",
    response_model=WebhookEndpointView,
    responses=ERRORS,
)
async def change_endpoint(
    endpoint_id: EndpointId, body: WebhookEndpointChange, caller: CurrentCaller, webhooks: Webhooks
) -> WebhookEndpointView:
    """The fields sent change; a new url is checked as on registration."""
    return await webhooks.change(caller.as_creditor, endpoint_id, body)


@router.delete(
    "/{endpoint_id}",
    summary="Remove an endpoint and its delivery log",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
)
async def delete_endpoint(
    endpoint_id: EndpointId, caller: CurrentCaller, webhooks: Webhooks
) -> Response:
    """Nothing more is posted to it."""
    await webhooks.delete(caller.as_creditor, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{endpoint_id}/secret-rotation",
    summary="Rotate the signing secret (both sign for 24 hours)",
    response_model=WebhookEndpointWithSecret,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def rotate_secret(
    endpoint_id: EndpointId, caller: CurrentCaller, webhooks: Webhooks, once: Idempotent
) -> JSONResponse:
    """The new secret is shown once; for 24 hours each message carries a signature by the old
    secret and one by the new, so your receiver switches without missing one."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        view = (await webhooks.rotate(caller.as_creditor, endpoint_id)).model_dump(mode="json")
        return Outcome(status.HTTP_200_OK, view, replay_body=view | {"secret": None})

    return await once.answer(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, "endpoint_id": endpoint_id},
        effect,
    )


@router.get(
    "/{endpoint_id}/deliveries",
    summary="The delivery log: each event posted, every attempt",
    response_model=WebhookDeliveryList,
    responses=ERRORS,
)
async def list_deliveries(
    endpoint_id: EndpointId,
    caller: CurrentCaller,
    webhooks: Webhooks,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> WebhookDeliveryList:
    """Newest first, each with its attempts (status code, latency, the answer's start)."""
    return await webhooks.deliveries(caller.as_creditor, endpoint_id, limit)


@router.post(
    "/deliveries/{delivery_id}/replay",
    summary="Post a delivery again now",
    response_model=WebhookDeliveryView,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def replay_delivery(
    delivery_id: DeliveryId, caller: CurrentCaller, webhooks: Webhooks, once: Idempotent
) -> JSONResponse:
    """Same webhook-id and body (your receiver may drop it as seen), three fresh days of retries."""
    return await once.relay(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, "delivery_id": delivery_id},
        status.HTTP_200_OK,
        lambda: webhooks.replay(caller.as_creditor, delivery_id),
    )
