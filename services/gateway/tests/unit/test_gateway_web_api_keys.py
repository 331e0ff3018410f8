"""API keys on a page: created with the scopes ticked, the secret shown on the answer only,
working on the API at once; revoked, it stops working; another organisation cannot revoke it."""

from __future__ import annotations

import re

import httpx

from services.gateway.tests.unit.test_gateway_web_pages import (
    another_browser,
    browser,
    csrf_of,
    intake,
    post_form,
    signed_in,
)

__all__ = ["browser", "intake"]  # the fixtures: a browser on the gateway over fake services


async def test_a_key_is_shown_once_works_with_its_scopes_and_stops_when_revoked(
    browser: httpx.AsyncClient,
) -> None:
    await signed_in(browser, "owner@acme.fr")
    made = await post_form(
        browser,
        "/account/api-keys",
        "/account/api-keys",
        {"name": "Export comptable", "scope-read": "yes"},
    )
    assert made.status_code == 200
    assert made.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="secret">([^<]+)</code>', made.text)
    assert secret is not None
    key = secret.group(1)
    listed = await browser.get("/account/api-keys")
    assert key not in listed.text
    assert "Export comptable" in listed.text
    bearer = {"Authorization": f"Bearer {key}"}
    assert (await browser.get("/v1/me", headers=bearer)).status_code == 200
    # Read only: a write is refused.
    assert (
        await browser.post(
            "/v1/api-keys", json={"name": "x"}, headers={**bearer, "Idempotency-Key": "k1"}
        )
    ).status_code == 403

    key_id = re.search(r'action="/account/api-keys/([^/]+)/revoke"', listed.text)
    assert key_id is not None
    async with await another_browser(browser) as other:
        await signed_in(other, "b@other.fr")
        page = await other.get("/account/api-keys")
        tried = await other.post(
            f"/account/api-keys/{key_id.group(1)}/revoke", data={"csrf_token": csrf_of(page)}
        )
        assert tried.status_code == 404
    assert (await browser.get("/v1/me", headers=bearer)).status_code == 200
    revoked = await browser.post(
        f"/account/api-keys/{key_id.group(1)}/revoke", data={"csrf_token": csrf_of(listed)}
    )
    assert revoked.status_code == 303
    assert (await browser.get("/v1/me", headers=bearer)).status_code == 401
    assert "révoquée" in (await browser.get("/account/api-keys")).text


async def test_a_key_without_a_name_is_refused_beside_the_name(browser: httpx.AsyncClient) -> None:
    await signed_in(browser, "owner@acme.fr")
    refused = await post_form(browser, "/account/api-keys", "/account/api-keys", {"name": ""})
    assert refused.status_code == 422
    assert 'id="name-error"' in refused.text
    assert "Aucune clé d'API" in refused.text
