"""A collection provider's journey through the web pages in Debian's Chromium, against the real
stack with intake, scoring, matching (on a test clock), the vault and the gateway as processes.

An approved provider's browser sits on the marketplace; a creditor (over REST) submits a case
and attaches its signed terms; scoring scores it, matching opens an auction and the page shows
it without a reload (htmx polling); the provider bids from the page. Bidding closes on the test
clock, the creditor accepts the quote, the offer appears on the page and the provider accepts
it: the held case's page shows the debtor (name, address, e-mail, phone) and the creditor's
document, which downloads byte for byte through the vault. The provider reports an action and a
payment (a refused one first, its rule beside the field). A second approved provider, with
JavaScript off, gets 404 on the held case's page and on its document. Every page A visits is
screenshotted (var/screenshots/) and checked with axe-core and for CSP violations (B's, with
JavaScript off, cannot run axe)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import (
    CREDITOR_SIREN,
    PASSWORD,
    OffsetClock,
    approve_provider,
    eventually,
    idempotency_key,
    log_in,
    operator_log_in,
    wait_http,
)
from tests.support.stack import ROOT, Stack, free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PDF = ROOT / "services" / "intake" / "tests" / "data" / "invoice-facturx.pdf"
PDF_BYTES = PDF.read_bytes()
DEBTOR = "Menuiserie Dupont SARL"
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes
PARIS = ZoneInfo("Europe/Paris")


def case_body() -> dict[str, Any]:
    today = datetime.now(UTC).date()
    return {
        "debtor": {
            "kind": "company",
            "name": DEBTOR,
            "siren_or_siret": "443061841",
            "address": {"lines": ["3 rue des Artisans"], "postal_code": "69003", "city": "Lyon"},
            "email": "compta@menuiserie.example",
            "phone": "+33 4 72 00 00 00",
        },
        "invoices": [
            {
                "invoice_number": "F-2026-0042",
                "issue_date": (today - timedelta(days=90)).isoformat(),
                "due_date": (today - timedelta(days=60)).isoformat(),
                "amount_due": {"amount": "4800.00", "currency": "EUR"},
            }
        ],
    }


async def browser_log_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/login")
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page).to_have_url(re.compile(r"/provider$"))


async def provider_account(
    client: httpx.AsyncClient, operator: dict[str, str], name: str, siren: str
) -> str:
    """A commissaire de justice working all of France, signed up over REST and approved by the
    operator; its e-mail, to log in in the browser."""
    email = f"{unique_name('provider')}@example.fr"
    signed = await client.post(
        "/v1/provider/accounts",
        json={
            "organisation_name": name,
            "siren": siren,
            "email": email,
            "password": PASSWORD,
            "profile": {
                "kind": "commissaire",
                "regions": ["FR"],
                "serves_business": True,
                "serves_consumer": False,
                "min_amount": {"amount": "100.00", "currency": "EUR"},
                "max_amount": {"amount": "100000.00", "currency": "EUR"},
                "judicial": True,
                "capacity": 5,
            },
        },
        headers=idempotency_key(),
    )
    assert signed.status_code == 201, signed.text
    await approve_provider(client, operator, signed.json()["id"])
    return email


async def test_a_provider_bids_live_wins_and_works_the_case_and_nobody_else_can(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_web_provider") + "."
    clock = OffsetClock(tmp_path / "matching-clock-offset")
    intake = run_service("intake", make_database("intake"), prefix)
    scoring = run_service("scoring", make_database("scoring"), prefix, intake_target=intake.target)
    matching = run_service(
        "matching",
        make_database("matching"),
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    )
    vault = run_service(
        "vault",
        make_database("vault"),
        prefix,
        bucket=unique_name("vault").replace("_", "-"),
        key_file=str(tmp_path / "keys.json"),
        s3_endpoint=stack.s3_endpoint,
        s3_access_key=stack.s3_access_key,
        s3_secret_key=stack.s3_secret_key,
    )
    http_port = free_port()
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        scoring_target=scoring.target,
        matching_target=matching.target,
        vault_target=vault.target,
        # No messaging in this journey: nothing listens there, the page says the thread is
        # unavailable (the thread is covered by the unit tests of the page).
        messaging_target=f"127.0.0.1:{free_port()}",
    )
    for process in (intake, scoring, matching, vault, gateway):  # one at a time: 2 cores
        await asyncio.to_thread(process.start)
    base = f"http://127.0.0.1:{http_port}"

    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await wait_http(client, gateway)
        operator = await operator_log_in(client, gateway)
        alice_email = await provider_account(client, operator, "Etude Lambert", "732829320")
        bob_email = await provider_account(client, operator, "Etude Roux", "552100554")

        creditor_email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": "Atelier Dupuis",
                "siren": CREDITOR_SIREN,
                "email": creditor_email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor = await log_in(client, creditor_email)
        policy = await client.post(
            "/v1/quote-policy", json={"max_fee_percent": "20"}, headers=creditor | idempotency_key()
        )
        assert policy.status_code == 200, policy.text

        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
                page = alice.page
                await browser_log_in(page, base, alice_email)
                await expect(page.get_by_text("Aucune enchère ne vous est ouverte")).to_be_visible()
                await checked(alice, "provider-market-empty")
                # A mark in this very document: still there later means the page never reloaded.
                await page.evaluate("() => { window.recouvraSameDocument = true; }")

                # The creditor submits a case with its signed terms: scored, then auctioned.
                submitted = await client.post(
                    "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
                )
                assert submitted.status_code == 201, submitted.text
                case_id = submitted.json()["case_id"]
                uploaded = await client.post(
                    f"/v1/cases/{case_id}/documents",
                    files={"file": ("cgv-signees.pdf", PDF_BYTES, "application/pdf")},
                    data={"kind": "quote-or-terms"},
                    headers=creditor | idempotency_key(),
                )
                assert uploaded.status_code == 201, uploaded.text

                row = page.locator(f"#auction-{case_id}")
                await expect(row).to_be_visible(timeout=120_000)
                assert await page.evaluate("() => window.recouvraSameDocument === true")
                await expect(row).to_contain_text("1000-5000 EUR")
                assert DEBTOR not in await page.content()  # anonymised until held
                await checked(alice, "provider-market-auction")

                await page.locator(f"#fee-{case_id}").fill("7,5")
                await row.get_by_role("button", name="Enchérir").click()
                await expect(page.locator(f"#auction-{case_id}")).to_contain_text("7.5 %")

                # Bidding closes on the test clock; the creditor accepts the quote.
                clock.advance(BIDDING_CLOSES)

                async def quoted() -> dict[str, Any] | None:
                    answer = await client.get(f"/v1/cases/{case_id}/quote", headers=creditor)
                    assert answer.status_code == 200, answer.text
                    quote: dict[str, Any] = answer.json()
                    return quote if quote["status"] == "quoted" else None

                quote = await eventually(quoted, "the quote", within=90)
                assert quote["fee_percent"] == "7.5"
                # The creditor reads the quote on its page, with the provider's measured record,
                # and accepts it there.
                owner = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
                await owner.page.goto(f"{base}/login")
                await owner.page.get_by_label("E-mail").fill(creditor_email)
                await owner.page.get_by_label("Mot de passe").fill(PASSWORD)
                await owner.page.get_by_role("button", name="Se connecter").click()
                await expect(owner.page).to_have_url(re.compile(r"/dashboard$"))
                await owner.page.goto(f"{base}/cases/{case_id}/quote")
                offer = owner.page.locator("#quote")
                await expect(offer).to_contain_text("Etude Lambert")
                await expect(offer).to_contain_text("7.5 %")
                await expect(owner.page.locator("table.record")).to_be_visible()
                await checked(owner, "creditor-quote")
                await owner.page.get_by_role("button", name="Accepter le devis").click()
                await expect(owner.page).to_have_url(re.compile(rf"/cases/{case_id}(#quote)?$"))
                await expect(
                    owner.page.get_by_role("button", name="Accepter le devis")
                ).to_have_count(0)
                await checked(owner, "creditor-quote-accepted")

                # The offer appears on the page by itself; the provider accepts the case.
                accept = page.get_by_role("button", name="Accepter le dossier")
                await expect(accept).to_be_visible(timeout=60_000)
                assert await page.evaluate("() => window.recouvraSameDocument === true")
                await checked(alice, "provider-market-offer")
                await accept.click()
                await expect(page).to_have_url(re.compile(rf"/provider/cases/{case_id}$"))
                held_url = page.url
                # Intake hears of the assignment through Kafka: the page waits for the file.
                await expect(page.get_by_role("heading", level=1)).to_have_text(
                    DEBTOR, timeout=30_000
                )
                debtor = page.locator("dl.debtor")
                await expect(debtor).to_contain_text("3 rue des Artisans")
                await expect(debtor).to_contain_text("69003 Lyon")
                await expect(debtor).to_contain_text("compta@menuiserie.example")
                await expect(debtor).to_contain_text("+33472000000")  # as intake normalised it

                # The vault grants the holder once matching's case-assigned fact reaches it.
                link = page.get_by_role("link", name="cgv-signees.pdf")
                for _ in range(60):
                    if await link.count():
                        break
                    await asyncio.sleep(1)
                    await page.reload()
                await expect(link).to_be_visible()
                document_url = await link.get_attribute("href")
                assert document_url is not None
                async with page.expect_download() as downloading:
                    await link.click()
                downloaded = await (await downloading.value).path()
                assert await asyncio.to_thread(Path(downloaded).read_bytes) == PDF_BYTES
                await checked(alice, "provider-held-case")

                # An action, then a payment refused (beside its field), then accepted.
                await page.get_by_label("Ce que vous avez fait").select_option("call")
                await page.get_by_label("Note pour le créancier").fill("Comptable joint.")
                await page.get_by_role("button", name="Signaler l\u2019action").click()
                await expect(page.locator("#done-action")).to_have_text(
                    "Votre action est signalée au créancier."
                )
                await page.get_by_label(re.compile("^Montant payé")).fill("-10")
                # The day in France on matching's clock (moved past the bidding): the window
                # began that day, which near midnight is already tomorrow in UTC's terms.
                today = (datetime.now(UTC) + clock.offset).astimezone(PARIS).date().isoformat()
                await page.get_by_label(re.compile("^Payé le")).fill(today)
                await page.get_by_label(re.compile("^Votre référence")).fill("VIR-42")
                await page.get_by_role("button", name="Déclarer le paiement").click()
                await expect(page.locator("#amount-error")).to_be_visible()
                await expect(page.get_by_label(re.compile("^Votre référence"))).to_have_value(
                    "VIR-42"
                )
                await checked(alice, "provider-held-case-refused")
                await page.get_by_label(re.compile("^Montant payé")).fill("400,00")
                await page.get_by_role("button", name="Déclarer le paiement").click()
                await expect(page.locator("#done-payment")).to_be_visible()
                claims = page.locator("table.claims")
                await expect(claims).to_contain_text("VIR-42")
                await expect(claims).to_contain_text("400,00\u00a0€")
                await expect(claims).to_contain_text("déclaré")

                # The creditor sees what the holder did and claims.
                activity = await client.get(f"/v1/cases/{case_id}/activity", headers=creditor)
                assert activity.status_code == 200, activity.text
                assert "Comptable joint." in activity.text
                assert "VIR-42" in activity.text

                # A standing rule from its page (a refused amount first), then the fees page.
                await page.get_by_role("link", name="Règles d\u2019enchère automatique").click()
                await expect(page).to_have_url(re.compile(r"/provider/rules$"))
                await checked(alice, "provider-rules")
                await page.get_by_label(re.compile("^Nom de la règle")).fill("PME Lyon")
                await page.get_by_label(re.compile("^Honoraires de résultat")).fill("11")
                await page.get_by_label(re.compile("^Créance la plus élevée")).fill("beaucoup")
                await page.get_by_role("button", name="Enregistrer la règle").click()
                await expect(page.locator("#max_amount-error")).to_be_visible()
                await checked(alice, "provider-rules-refused")
                await page.get_by_label(re.compile("^Créance la plus élevée")).fill("50000")
                await page.get_by_label("conteste", exact=True).check()
                await page.get_by_role("button", name="Enregistrer la règle").click()
                saved = page.locator("#saved")
                await expect(saved).to_contain_text("PME Lyon")
                await expect(saved).to_contain_text("50\u202f000,00\u00a0€")
                await checked(alice, "provider-rules-saved")
                await page.get_by_role("link", name="Vos honoraires").click()
                await expect(page.get_by_role("heading", level=1)).to_have_text("Vos honoraires")
                await checked(alice, "provider-fees")

                # Provider B, with JavaScript off: the held case and its document are 404.
                context = await browser.new_context(locale="fr-FR", java_script_enabled=False)
                bob = Watched(await context.new_page())
                await browser_log_in(bob.page, base, bob_email)
                foreign = await bob.page.goto(held_url)
                assert foreign is not None
                assert foreign.status == 404
                await expect(bob.page.get_by_role("heading", level=1)).to_have_text("Introuvable")
                assert DEBTOR not in await bob.page.content()
                document = await context.request.get(f"{base}{document_url}")
                assert document.status == 404
                assert PDF_BYTES[:64] not in await document.body()
            finally:
                await browser.close()
