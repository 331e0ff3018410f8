"""A provider's pages over fakes: sign-up answers 'awaiting approval' and registers the profile
with matching; a pending provider sees why and no auction; once an operator approved it, the
marketplace lists its open auctions (htmx refreshes them), its bid reaches matching as itself,
and an offered case can be accepted. A creditor's session is refused on the provider's pages."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import Vetting
from services.gateway.tests.unit.gateway_fakes import (
    PASSWORD,
    FakeMatching,
    FakeStore,
    http_client,
    marketplace_services,
)
from services.gateway.tests.unit.test_gateway_web_pages import csrf_of, post_form

SIGN_UP = {
    "organisation_name": "Etude Lambert",
    "siren": "443061841",
    "email": "bureau@etude-lambert.fr",
    "password": PASSWORD,
    "profile.kind": "commissaire",
    "profile.regions": "FR-IDF, fr-hdf",
    "profile.serves_business": "yes",
    "profile.max_amount": "50000",
    "profile.judicial": "yes",
    "profile.capacity": "20",
}


@pytest.fixture
def matching() -> FakeMatching:
    return FakeMatching()


@pytest.fixture
async def browser(
    store: FakeStore, passwords: Passwords, tokens: Tokens, matching: FakeMatching
) -> AsyncIterator[httpx.AsyncClient]:
    """A browser keeping cookies, on the development settings (no Secure cookies)."""
    services = marketplace_services(store, passwords, tokens, matching)
    async with http_client(dataclasses.replace(services, secure_cookies=False)) as http:
        yield http


async def provider_signed_up(browser: httpx.AsyncClient, store: FakeStore) -> str:
    signed = await post_form(browser, "/provider/signup", "/provider/signup", SIGN_UP)
    assert (signed.status_code, signed.headers["location"]) == (303, "/provider/signup/pending")
    organisation = next(iter(store.accounts.organisations.values()))
    return organisation.organisation_id


async def log_in(browser: httpx.AsyncClient, email: str) -> httpx.Response:
    return await post_form(browser, "/login", "/login", {"email": email, "password": PASSWORD})


async def approve(store: FakeStore, matching: FakeMatching, provider_id: str) -> None:
    """An operator approved the provider: the gateway's account and matching both know it, as
    the operator route tells them."""
    async with store.unit_of_work() as uow:
        await uow.accounts.set_vetting(provider_id, Vetting.APPROVED)
        await uow.commit()
    matching.approved[provider_id] = True


async def test_a_provider_signs_up_and_waits_for_approval_seeing_no_auction(
    browser: httpx.AsyncClient, store: FakeStore, matching: FakeMatching
) -> None:
    provider_id = await provider_signed_up(browser, store)
    pending = await browser.get("/provider/signup/pending")
    assert "Votre compte attend son approbation" in pending.text
    [(_, registered)] = matching.called("RegisterProvider")
    assert registered.provider_id == provider_id
    assert list(registered.regions) == ["FR-IDF", "FR-HDF"]

    logged = await log_in(browser, SIGN_UP["email"])
    assert logged.headers["location"] == "/provider"
    matching.eligible = provider_id
    refused = await browser.get("/provider")
    assert refused.status_code == 403
    assert "approval" in refused.text
    assert "1000-5000 EUR" not in refused.text
    assert matching.called("ListOpenAuctions") == []


async def test_the_sign_up_form_shows_each_rule_beside_its_field(
    browser: httpx.AsyncClient, store: FakeStore, matching: FakeMatching
) -> None:
    bad = {**SIGN_UP, "siren": "123456789", "profile.regions": "Paris"}
    page = await post_form(browser, "/provider/signup", "/provider/signup", bad)
    assert page.status_code == 422
    assert re.search(r'id="siren-error">[^<]*SIREN', page.text)
    assert re.search(r'id="profile-regions-error">[^<]*ISO 3166', page.text)
    assert 'value="Etude Lambert"' in page.text
    assert store.accounts.organisations == {}
    assert matching.called("RegisterProvider") == []


async def test_an_approved_provider_sees_the_auctions_live_and_its_bid_reaches_matching(
    browser: httpx.AsyncClient, store: FakeStore, matching: FakeMatching
) -> None:
    provider_id = await provider_signed_up(browser, store)
    await approve(store, matching, provider_id)
    await log_in(browser, SIGN_UP["email"])
    matching.eligible = provider_id
    market = await browser.get("/provider")
    assert market.status_code == 200
    assert "1000-5000 EUR" in market.text
    assert "72/100" in market.text
    assert 'hx-get="/provider/live" hx-trigger="every 5s"' in market.text
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in market.text
    live = await browser.get("/provider/live")
    assert live.text.startswith('<div id="market"')
    assert "1000-5000 EUR" in live.text

    bid = await browser.post(
        "/provider/auctions/case-open/bid",
        data={"fee_percent": "12,5", "csrf_token": csrf_of(market)},
    )
    assert (bid.status_code, bid.headers["location"]) == (303, "/provider#auctions")
    [(caller, request)] = matching.called("PlaceBid")
    assert caller is not None
    assert (caller.kind, caller.tenant_id, request.case_id) == (
        "provider",
        provider_id,
        "case-open",
    )
    assert request.fee.basis_points == 1250


async def test_an_offered_case_is_listed_and_accepted_from_the_marketplace(
    browser: httpx.AsyncClient, store: FakeStore, matching: FakeMatching
) -> None:
    provider_id = await provider_signed_up(browser, store)
    await approve(store, matching, provider_id)
    await log_in(browser, SIGN_UP["email"])
    matching.offer("case-won", "creditor-1", provider_id)
    market = await browser.get("/provider")
    assert "Accepter le dossier" in market.text
    assert "1\u202f250,00\u00a0€" in market.text
    accepted = await browser.post(
        "/provider/cases/case-won/accept", data={"csrf_token": csrf_of(market)}
    )
    assert (accepted.status_code, accepted.headers["location"]) == (
        303,
        "/provider/cases/case-won",
    )
    [(caller, request)] = matching.called("AcceptAssignment")
    assert caller is not None
    assert (caller.tenant_id, request.case_id) == (provider_id, "case-won")


async def test_a_creditor_session_is_refused_on_the_provider_pages(
    browser: httpx.AsyncClient,
) -> None:
    signed = await post_form(
        browser,
        "/signup",
        "/signup",
        {"organisation_name": "Acme", "email": "a@acme.fr", "password": PASSWORD},
    )
    assert signed.status_code == 303
    assert (await log_in(browser, "a@acme.fr")).headers["location"] == "/dashboard"
    assert (await browser.get("/provider")).status_code == 403
