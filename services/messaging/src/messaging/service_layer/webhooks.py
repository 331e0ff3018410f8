"""A creditor manages its webhook endpoints: register, change, rotate the secret, remove, list."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from messaging.domain.webhook_signing import new_secret
from messaging.domain.webhooks import (
    PREVIOUS_SECRET_GRACE,
    WebhookEndpoint,
    WebhookEndpointNotFound,
    check_resolved,
    checked_description,
    checked_event_types,
    checked_url,
)
from messaging.service_layer.webhook_ports import Resolver, WebhookUnitOfWork

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WebhookPolicy:
    """Where endpoints may point: `allow_private` is development's switch (http, loopback)."""

    allow_private: bool = False


@dataclass(frozen=True)
class RegisterEndpoint:
    creditor_id: str
    url: str
    event_types: Sequence[str]
    description: str = ""


@dataclass(frozen=True)
class ChangeEndpoint:
    """Fields left None stay as they are; `enabled` True re-enables a disabled endpoint."""

    creditor_id: str
    endpoint_id: str
    url: str | None = None
    event_types: Sequence[str] | None = None
    description: str | None = None
    enabled: bool | None = None


async def checked_target(url: str, policy: WebhookPolicy, resolve: Resolver) -> str:
    """The URL, refused unless its host resolves, now, only to public addresses."""
    url = checked_url(url, allow_private=policy.allow_private)
    host = urlsplit(url).hostname or ""
    check_resolved(await resolve(host), allow_private=policy.allow_private)
    return url


async def register_endpoint(
    command: RegisterEndpoint,
    uow: WebhookUnitOfWork,
    *,
    policy: WebhookPolicy,
    resolve: Resolver,
    now: Clock,
) -> WebhookEndpoint:
    """A new enabled endpoint with a fresh secret (the reply is the only time it is shown)."""
    event_types = checked_event_types(command.event_types)
    description = checked_description(command.description)
    url = await checked_target(command.url, policy, resolve)
    endpoint = WebhookEndpoint(
        endpoint_id=str(uuid.uuid4()),
        creditor_id=command.creditor_id,
        url=url,
        event_types=event_types,
        secret=new_secret(),
        previous_secret=None,
        previous_secret_until=None,
        enabled=True,
        disabled_reason="",
        description=description,
        created_at=now(),
    )
    async with uow:
        await uow.webhooks.add_endpoint(endpoint)
        await uow.commit()
    return endpoint


async def owned_endpoint(
    uow: WebhookUnitOfWork, creditor_id: str, endpoint_id: str
) -> WebhookEndpoint:
    """The creditor's endpoint; another creditor's reads as missing."""
    found = await uow.webhooks.endpoint(creditor_id, endpoint_id)
    if found is None:
        raise WebhookEndpointNotFound("endpoint_id: no such webhook endpoint")
    return found


async def change_endpoint(
    command: ChangeEndpoint,
    uow: WebhookUnitOfWork,
    *,
    policy: WebhookPolicy,
    resolve: Resolver,
) -> WebhookEndpoint:
    """The endpoint with the given fields changed, checked as on registration."""
    changes: dict[str, object] = {}
    if command.event_types is not None:
        changes["event_types"] = checked_event_types(command.event_types)
    if command.description is not None:
        changes["description"] = checked_description(command.description)
    if command.url is not None:
        changes["url"] = await checked_target(command.url, policy, resolve)
    if command.enabled is not None:
        changes["enabled"] = command.enabled
        changes["disabled_reason"] = "" if command.enabled else "disabled by the creditor"
    async with uow:
        endpoint = replace(
            await owned_endpoint(uow, command.creditor_id, command.endpoint_id),
            **changes,  # type: ignore[arg-type]
        )
        await uow.webhooks.save_endpoint(endpoint)
        await uow.commit()
    return endpoint


async def rotate_secret(
    creditor_id: str, endpoint_id: str, uow: WebhookUnitOfWork, *, now: Clock
) -> WebhookEndpoint:
    """A new secret signs from now on; the replaced one signs too for 24 hours, so receivers
    switch without losing a message."""
    async with uow:
        endpoint = await owned_endpoint(uow, creditor_id, endpoint_id)
        rotated = replace(
            endpoint,
            secret=new_secret(),
            previous_secret=endpoint.secret,
            previous_secret_until=now() + PREVIOUS_SECRET_GRACE,
        )
        await uow.webhooks.save_endpoint(rotated)
        await uow.commit()
    return rotated


async def remove_endpoint(creditor_id: str, endpoint_id: str, uow: WebhookUnitOfWork) -> None:
    """The endpoint and its delivery log are gone; nothing more is sent to it."""
    async with uow:
        if not await uow.webhooks.delete_endpoint(creditor_id, endpoint_id):
            raise WebhookEndpointNotFound("endpoint_id: no such webhook endpoint")
        await uow.commit()


async def endpoints_of(creditor_id: str, uow: WebhookUnitOfWork) -> list[WebhookEndpoint]:
    """The creditor's endpoints, oldest first."""
    async with uow:
        return await uow.webhooks.endpoints_of(creditor_id)
