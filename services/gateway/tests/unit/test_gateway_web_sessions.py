"""Web sessions the server ends: 'log out everywhere' and a new password refuse every session
opened before, in every browser (a copied cookie included), while the browser that changed the
password keeps a new one; and the rules a refused form breaks read in French on French pages."""

from __future__ import annotations

import html

import httpx

from services.gateway.tests.unit.gateway_fakes import FakeStore
from services.gateway.tests.unit.test_gateway_web_pages import (
    PASSWORD,
    another_browser,
    browser,
    csrf_of,
    field_error,
    intake,
    post_form,
    signed_in,
)

__all__ = ["browser", "intake"]  # the fixtures: a browser on the gateway over fake services

NEW_PASSWORD = "a much longer passphrase"


def rule_beside(page: httpx.Response, field_id: str) -> str:
    return html.unescape(field_error(page.text, field_id))


async def log_in(browser: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await post_form(browser, "/login", "/login", {"email": email, "password": password})


async def test_log_out_everywhere_ends_the_sessions_of_every_browser_even_a_copied_cookie(
    browser: httpx.AsyncClient,
) -> None:
    await signed_in(browser, "owner@acme.fr")
    stolen = browser.cookies.get("recouvra_session")
    async with await another_browser(browser) as laptop:
        assert (await log_in(laptop, "owner@acme.fr", PASSWORD)).status_code == 303
        assert (await laptop.get("/cases")).status_code == 200
        page = await browser.get("/account/security")
        ended = await browser.post("/logout/everywhere", data={"csrf_token": csrf_of(page)})
        assert (ended.status_code, ended.headers["location"]) == (303, "/login")
        on_laptop = await laptop.get("/cases")
        assert (on_laptop.status_code, on_laptop.headers["location"]) == (
            303,
            "/login?next=%2Fcases",
        )
    async with await another_browser(browser) as thief:
        thief.cookies.set("recouvra_session", stolen or "")
        assert (await thief.get("/cases")).status_code == 303
    # Logging in again opens a session that works.
    assert (await log_in(browser, "owner@acme.fr", PASSWORD)).status_code == 303
    assert (await browser.get("/cases")).status_code == 200


async def test_a_new_password_ends_other_sessions_and_keeps_this_browser_logged_in(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    async with await another_browser(browser) as laptop:
        await log_in(laptop, "owner@acme.fr", PASSWORD)
        wrong = await post_form(
            browser,
            "/account/security",
            "/account/password",
            {"current_password": "not it at all!", "new_password": NEW_PASSWORD},
        )
        assert wrong.status_code == 422
        assert rule_beside(wrong, "current_password") == ("n'est pas votre mot de passe actuel")
        short = await post_form(
            browser,
            "/account/security",
            "/account/password",
            {"current_password": PASSWORD, "new_password": "short"},
        )
        assert rule_beside(short, "new_password") == "doit compter au moins 12 caractères"
        assert (await laptop.get("/cases")).status_code == 200  # nothing changed yet

        changed = await post_form(
            browser,
            "/account/security",
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 303
        assert (await browser.get("/cases")).status_code == 200
        assert (await laptop.get("/cases")).status_code == 303
        assert (await log_in(laptop, "owner@acme.fr", PASSWORD)).status_code == 401
        assert (await log_in(laptop, "owner@acme.fr", NEW_PASSWORD)).status_code == 303
    assert "Your password was changed" not in (await browser.get("/account/security")).text


async def test_a_new_password_or_log_out_everywhere_ends_the_apis_bearer_tokens_too(
    browser: httpx.AsyncClient,
) -> None:
    # A token copied off a client must not keep working for its 15 minutes once the owner
    # changed the password or logged out everywhere.
    await signed_in(browser, "owner@acme.fr")

    async def token(password: str) -> dict[str, str]:
        issued = await browser.post(
            "/v1/auth/token", json={"email": "owner@acme.fr", "password": password}
        )
        assert issued.status_code == 200, issued.text
        return {"Authorization": f"Bearer {issued.json()['access_token']}"}

    stolen = await token(PASSWORD)
    assert (await browser.get("/v1/me", headers=stolen)).status_code == 200
    changed = await post_form(
        browser,
        "/account/security",
        "/account/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 303
    refused = await browser.get("/v1/me", headers=stolen)
    assert refused.status_code == 401
    assert "log in again" in refused.json()["detail"]

    fresh = await token(NEW_PASSWORD)
    assert (await browser.get("/v1/me", headers=fresh)).status_code == 200
    page = await browser.get("/account/security")
    await browser.post("/logout/everywhere", data={"csrf_token": csrf_of(page)})
    assert (await browser.get("/v1/me", headers=fresh)).status_code == 401


async def test_form_rules_read_in_french_on_french_pages_and_in_english_on_english_ones(
    browser: httpx.AsyncClient,
) -> None:
    form = {"organisation_name": "Acme", "email": "not an address", "password": "short"}
    french = await post_form(browser, "/signup", "/signup", form)
    assert rule_beside(french, "password") == "doit compter au moins 12 caractères"
    assert rule_beside(french, "email") == "n'est pas une adresse e-mail valide"
    english = await browser.post(
        "/signup",
        data={**form, "csrf_token": csrf_of(french)},
        headers={"Accept-Language": "en"},
    )
    assert rule_beside(english, "password") == "String should have at least 12 characters"
