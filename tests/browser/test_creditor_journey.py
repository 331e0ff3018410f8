"""A creditor's journey through the web pages in Debian's Chromium, against the real stack and
the gateway, intake, scoring and the vault as processes: sign up (a refused form first), log
in, submit a case, read its case page (amounts, score and reasons), attach a document; a second
creditor, with JavaScript off, gets 404 on the first one's case and document. Every page
visited is screenshotted (var/screenshots/) and checked with axe-core; a serious or critical
violation, or a CSP violation, fails the test."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import CREDITOR_SIREN, wait_http
from tests.support.stack import ROOT, Stack, free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PASSWORD = "correct horse battery staple"
PDF = ROOT / "services" / "intake" / "tests" / "data" / "invoice-facturx.pdf"
PDF_BYTES = PDF.read_bytes()


async def sign_up_and_log_in(page: Page, base: str, company: str, email: str) -> None:
    await page.goto(f"{base}/signup")
    await page.get_by_label("Raison sociale").fill(company)
    await page.get_by_label("E-mail").fill(email)
    # A company creditor gives its SIREN before its first case (issue 13, point 2).
    await page.get_by_label("SIREN", exact=True).fill(CREDITOR_SIREN)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Créer un compte").click()
    await expect(page).to_have_url(re.compile(r"/login\?signed_up=true$"))
    await page.get_by_label("E-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(PASSWORD)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page).to_have_url(re.compile(r"/dashboard$"))


async def test_a_creditor_signs_up_submits_a_case_and_reads_it_and_nobody_else_can(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_web") + "."
    intake = run_service("intake", make_database("intake"), prefix)
    scoring = run_service("scoring", make_database("scoring"), prefix, intake_target=intake.target)
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
        vault_target=vault.target,
    )
    processes = (intake, scoring, vault, gateway)
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))
    base = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await wait_http(client, gateway)

    today = datetime.now(UTC).date()
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            page = alice.page

            # Sign-up refused first: the rule is shown beside the password, in French around it.
            await page.goto(f"{base}/signup")
            await checked(alice, "signup")
            await page.get_by_label("Raison sociale").fill("Atelier Dupont SARL")
            await page.get_by_label("E-mail").fill("compta@atelier-dupont.fr")
            await page.get_by_label("Mot de passe").fill("court")
            await page.get_by_role("button", name="Créer un compte").click()
            await expect(page.locator("#password-error")).to_contain_text("12")
            await expect(page.get_by_label("Raison sociale")).to_have_value("Atelier Dupont SARL")
            await checked(alice, "signup-refused")

            email = f"{unique_name('alice')}@atelier-dupont.fr"
            await sign_up_and_log_in(page, base, "Atelier Dupont SARL", email)
            assert await page.evaluate("() => typeof window.htmx") == "object"
            await checked(alice, "dashboard-empty")

            # Submit a case with its invoice: intake computes what is owed.
            await page.get_by_role("link", name="Déposer un dossier").first.click()
            await expect(page).to_have_url(re.compile(r"/cases/new$"))
            await checked(alice, "case-new")
            await page.locator("#debtor-name").fill("Transports Lefèvre SAS")
            await page.locator("#debtor-siren_or_siret").fill("552100554")
            await page.locator("#invoices-0-invoice_number").fill("F-2026-0042")
            await page.locator("#invoices-0-issue_date").fill(
                (today - timedelta(days=90)).isoformat()
            )
            await page.locator("#invoices-0-due_date").fill(
                (today - timedelta(days=60)).isoformat()
            )
            await page.locator("#invoices-0-amount_due-amount").fill("1250.00")
            await page.get_by_role("button", name="Déposer le dossier").click()
            await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
            case_url = page.url
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Transports Lefèvre SAS"
            )
            await expect(page.get_by_text("Indemnité forfaitaire de recouvrement")).to_be_visible()
            await expect(
                page.locator("td.money", has_text="1\u202f250,00\u00a0€").first
            ).to_be_visible()

            # Attach the invoice; it is listed and downloads byte for byte.
            await page.get_by_label("Type de document").select_option("invoice")
            await page.get_by_label(re.compile("^Fichier")).set_input_files(str(PDF))
            await page.get_by_role("button", name="Envoyer").click()
            link = page.get_by_role("link", name="invoice-facturx.pdf")
            await expect(link).to_be_visible()
            document_url = await link.get_attribute("href")
            assert document_url is not None
            async with page.expect_download() as downloading:
                await link.click()
            downloaded = await (await downloading.value).path()
            assert await asyncio.to_thread(Path(downloaded).read_bytes) == PDF_BYTES
            # Scoring hears of the case through Kafka: its score and reasons appear.
            for _ in range(60):
                if await page.locator("ul.reasons li").count():
                    break
                await asyncio.sleep(1)
                await page.reload()
            await expect(page.locator("p", has_text="Trustscore")).to_contain_text("/100")
            await expect(page.locator("ul.reasons li").first).to_be_visible()
            await checked(alice, "case")

            await page.goto(f"{base}/cases?q=Lef%C3%A8vre")
            await expect(page.get_by_role("link", name="Transports Lefèvre SAS")).to_be_visible()
            await checked(alice, "cases")
            await page.goto(f"{base}/dashboard")
            await expect(page.locator("svg.chart rect")).to_have_count(5)
            await checked(alice, "dashboard")

            # The same page in English, by the switch.
            await page.get_by_role("button", name="English").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
            await checked(alice, "dashboard-en")
            missing = await page.goto(f"{base}/cases/{uuid.uuid4()}")
            assert missing is not None
            assert missing.status == 404
            await checked(alice, "not-found")

            # Creditor B, with JavaScript off: its pages work, A's case and document are 404.
            context = await browser.new_context(locale="fr-FR", java_script_enabled=False)
            bob = Watched(await context.new_page())
            await sign_up_and_log_in(
                bob.page, base, "Bureau Martin", f"{unique_name('bob')}@martin.fr"
            )
            foreign = await bob.page.goto(case_url)
            assert foreign is not None
            assert foreign.status == 404
            await expect(bob.page.get_by_role("heading", level=1)).to_have_text("Introuvable")
            assert "Transports" not in await bob.page.content()
            document = await context.request.get(f"{base}{document_url}")
            assert document.status == 404
            assert PDF_BYTES[:64] not in await document.body()
            await bob.page.goto(f"{base}/cases")
            await expect(bob.page.get_by_role("heading", level=1)).to_have_text("Dossiers")
            assert "Transports" not in await bob.page.content()
        finally:
            await browser.close()
