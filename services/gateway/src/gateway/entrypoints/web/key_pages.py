"""The organisation's API keys on a page: create one with its scopes (its secret is shown on the
answer to the form, once, never again), list them, revoke one. The API's own use cases and
rate limit; a person's session may manage keys, as on the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.rate_limits import CREATE_KEY
from gateway.domain.model import API_KEY_SCOPES, Principal
from gateway.entrypoints.api.deps import Services, rate_limited
from gateway.entrypoints.web.page_deps import (
    form_page,
    page_request,
    pages_of,
    session_principal,
    validated,
)
from gateway.schemas.accounts import ApiKeyRequest, ApiKeyView
from gateway.service_layer import accounts

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])


async def _person(request: Request, services: Services) -> Principal:
    return await session_principal(request, services)


Person = Annotated[Principal, Depends(_person)]


async def _listed(person: Principal, services: Services) -> list[ApiKeyView]:
    async with services.unit_of_work() as uow:
        keys = await accounts.list_api_keys(person, uow)
    return [ApiKeyView.of(key) for key in keys]


def _page(request: Request, keys: list[ApiKeyView], **extra: object) -> HTMLResponse:
    return pages_of(request).render(
        request, "api_keys.html", {"keys": keys, "all_scopes": API_KEY_SCOPES, **extra}
    )


@router.get("/account/api-keys")
async def api_keys(request: Request, person: Person, services: Services) -> HTMLResponse:
    """The keys, newest first (never their secrets), and the form to create one."""
    return _page(request, await _listed(person, services))


@router.post(
    "/account/api-keys",
    dependencies=[form_page("api_keys.html", all_scopes=API_KEY_SCOPES), rate_limited(CREATE_KEY)],
)
async def create_api_key(request: Request, person: Person, services: Services) -> HTMLResponse:
    """A new key; the answer shows its secret once (the page is not cached)."""
    request.state.form_context = {
        "all_scopes": API_KEY_SCOPES,
        "keys": await _listed(person, services),
    }
    form = await request.form()
    scopes = [s for s in API_KEY_SCOPES if form.get(f"scope-{s}")]
    expires = str(form.get("expires_on") or "").strip()
    body: ApiKeyRequest = validated(
        ApiKeyRequest,
        {
            "name": str(form.get("name") or "").strip(),
            "scopes": scopes or None,
            "expires_at": f"{expires}T00:00:00Z" if expires else None,
        },
    )
    async with services.unit_of_work() as uow:
        key, made = await accounts.create_api_key(
            person, body.name, uow, scopes=body.scopes, expires_at=body.expires_at
        )
        await uow.commit()
    return _page(
        request, await _listed(person, services), new_key=made.plaintext, new_name=key.name
    )


@router.post("/account/api-keys/{key_id}/revoke")
async def revoke_api_key(key_id: str, person: Person, services: Services) -> Response:
    """The key stops working at once; another organisation's key is 404."""
    async with services.unit_of_work() as uow:
        await accounts.revoke_api_key(person, key_id[:64], uow)
        await uow.commit()
    return RedirectResponse("/account/api-keys", status_code=303)
