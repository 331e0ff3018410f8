"""A creditor's webhooks on pages: endpoints listed, one registered (its signing secret shown on
the answer, once), paused or enabled again, removed, its secret rotated (the new one shown once),
and its delivery log with "send again". Messaging's WebhookService through the same client and
caller as /v1/webhooks: its rules (https, no private or internal target, at least one event)
come back beside the field, and another creditor's endpoint or delivery answers 404."""

from __future__ import annotations

import uuid
from typing import Any, get_args

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.webhooks import WebhookClient
from gateway.entrypoints.api.deps import ActingCaller, GatewayServices, Services, Webhooks
from gateway.entrypoints.api.idempotency import IdempotentPost, Outcome
from gateway.entrypoints.api.webhooks import DeliveryId, EndpointId
from gateway.entrypoints.web.page_deps import (
    PageCaller,
    form_page,
    page_request,
    pages_of,
    validated,
)
from gateway.schemas.webhooks import (
    EventType,
    WebhookEndpointChange,
    WebhookEndpointIn,
    WebhookEndpointView,
)
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.errors import NotFound

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

EVENT_TYPES: tuple[str, ...] = get_args(EventType)
DELIVERIES_SHOWN = 50


async def _listed(caller: ActingCaller, webhooks: WebhookClient) -> list[WebhookEndpointView]:
    return list((await webhooks.list(caller.as_creditor)).items)


def _form_context(endpoints: list[WebhookEndpointView]) -> dict[str, Any]:
    return {
        "endpoints": endpoints,
        "event_types": EVENT_TYPES,
        "idempotency_key": str(uuid.uuid4()),
    }


@router.get("/account/webhooks")
async def webhooks_page(request: Request, caller: PageCaller, webhooks: Webhooks) -> HTMLResponse:
    """The endpoints, oldest first (never their secrets), and the form to add one."""
    context = _form_context(await _listed(caller, webhooks))
    return pages_of(request).render(request, "webhooks.html", context)


@router.post("/account/webhooks", dependencies=[form_page("webhooks.html")])
async def create_webhook(
    request: Request, caller: PageCaller, webhooks: Webhooks, services: Services
) -> HTMLResponse:
    """Register an endpoint; the answer shows its secret once. The form's key makes a double
    click register one endpoint (the second answer says the secret was already shown)."""
    form = await request.form()
    key = str(form.get("idempotency_key") or "")[:64] or str(uuid.uuid4())
    context = _form_context(await _listed(caller, webhooks)) | {"idempotency_key": key}
    request.state.form_context = context
    body: WebhookEndpointIn = validated(
        WebhookEndpointIn,
        {
            "url": str(form.get("url") or "").strip(),
            "event_types": [t for t in EVENT_TYPES if form.get(f"event-{t}")],
            "description": str(form.get("description") or "").strip(),
        },
    )

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        view = (await webhooks.create(caller.as_creditor, body)).model_dump(mode="json")
        return Outcome(201, view, replay_body=view | {"secret": None})

    answer = await _once(request, services, caller, key, body.model_dump(mode="json"), effect)
    created = answer.body
    return pages_of(request).render(
        request,
        "webhooks.html",
        _form_context(await _listed(caller, webhooks))
        | {
            "new_secret": created.get("secret"),
            "new_url": created.get("url"),
            "replayed": answer.replayed,
        },
    )


async def _once(
    request: Request,
    services: GatewayServices,
    caller: ActingCaller,
    key: str,
    content: dict[str, Any],
    effect: Any,
) -> Any:
    post = IdempotentPost(key=key, method="POST", path=request.url.path, services=services)
    return await post.run(
        caller.principal.organisation_id,
        {"creditor_id": caller.creditor_id, **content},
        effect,
    )


async def _endpoint(
    caller: ActingCaller, webhooks: WebhookClient, endpoint_id: str
) -> WebhookEndpointView:
    for endpoint in await _listed(caller, webhooks):
        if endpoint.id == endpoint_id:
            return endpoint
    raise NotFound("webhook endpoint not found")


@router.get("/account/webhooks/{endpoint_id}")
async def webhook_page(
    request: Request, endpoint_id: EndpointId, caller: PageCaller, webhooks: Webhooks
) -> HTMLResponse:
    """One endpoint: its events, its state, and its delivery log with each attempt."""
    endpoint = await _endpoint(caller, webhooks, endpoint_id)
    deliveries = await webhooks.deliveries(caller.as_creditor, endpoint_id, DELIVERIES_SHOWN)
    return pages_of(request).render(
        request,
        "webhook.html",
        {"endpoint": endpoint, "deliveries": deliveries.items, "event_types": EVENT_TYPES},
    )


@router.post("/account/webhooks/{endpoint_id}/rotate")
async def rotate_secret(
    request: Request, endpoint_id: EndpointId, caller: PageCaller, webhooks: Webhooks
) -> HTMLResponse:
    """A new signing secret, shown once; the old one also signs for 24 hours."""
    rotated = await webhooks.rotate(caller.as_creditor, endpoint_id)
    deliveries = await webhooks.deliveries(caller.as_creditor, endpoint_id, DELIVERIES_SHOWN)
    return pages_of(request).render(
        request,
        "webhook.html",
        {
            "endpoint": rotated,
            "deliveries": deliveries.items,
            "event_types": EVENT_TYPES,
            "new_secret": rotated.secret,
        },
    )


@router.post("/account/webhooks/{endpoint_id}/enabled")
async def set_enabled(
    request: Request, endpoint_id: EndpointId, caller: PageCaller, webhooks: Webhooks
) -> Response:
    """Pause the endpoint (nothing is posted to it) or enable it again."""
    form = await request.form()
    enabled = form.get("enabled") == "yes"
    await webhooks.change(caller.as_creditor, endpoint_id, WebhookEndpointChange(enabled=enabled))
    return RedirectResponse(f"/account/webhooks/{endpoint_id}", status_code=303)


@router.post("/account/webhooks/{endpoint_id}/delete")
async def delete_webhook(
    endpoint_id: EndpointId, caller: PageCaller, webhooks: Webhooks
) -> Response:
    """Remove the endpoint and its delivery log."""
    await webhooks.delete(caller.as_creditor, endpoint_id)
    return RedirectResponse("/account/webhooks", status_code=303)


@router.post("/account/webhooks/deliveries/{delivery_id}/replay")
async def replay_delivery(
    delivery_id: DeliveryId, caller: PageCaller, webhooks: Webhooks
) -> Response:
    """Post the delivery again now (same webhook-id and body), then back to its endpoint."""
    delivery = await webhooks.replay(caller.as_creditor, delivery_id)
    return RedirectResponse(
        f"/account/webhooks/{delivery.endpoint_id}#delivery-{delivery.id}"
        if delivery.endpoint_id
        else "/account/webhooks",
        status_code=303,
    )
