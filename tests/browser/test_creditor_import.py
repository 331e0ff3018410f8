"""A creditor imports a CSV of 50 cases, two of them wrong, in Debian's Chromium against the
real stack with intake and the gateway as processes: the progress page (htmx polling), then the
report naming the two refused lines and their columns. The sign-in security and API key pages
are checked too; a second creditor, with JavaScript off, gets 404 on the first one's import.
Every page is screenshotted and checked with axe-core (a serious or critical violation, or a CSP
violation, fails the test)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.browser.test_creditor_journey import sign_up_and_log_in
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import wait_http
from tests.support.stack import Stack, free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def fifty_cases_csv(today: date) -> str:
    """50 invoices of 50 debtors; line 11's amount is negative, line 31 falls due before it
    was issued."""
    issued = (today - timedelta(days=90)).isoformat()
    due = (today - timedelta(days=60)).isoformat()
    lines = ["invoice_number;issue_date;due_date;currency;amount_due;debtor_kind;debtor_name"]
    for n in range(1, 51):
        line = len(lines) + 1
        amount = "-5,00" if line == 11 else f"{100 + n},50"
        starts = (today - timedelta(days=30)).isoformat() if line == 31 else issued
        lines.append(f"IMP-{n:03};{starts};{due};EUR;{amount};company;Client importé {n}")
    return "\n".join(lines) + "\n"


async def test_a_creditor_imports_fifty_cases_and_reads_the_two_refused_lines(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_import") + "."
    intake = run_service("intake", make_database("intake"), prefix)
    http_port = free_port()
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
    )
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in (intake, gateway)))
    base = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await wait_http(client, gateway)
    csv = tmp_path / "clients.csv"
    csv.write_text(fifty_cases_csv(datetime.now(UTC).date()), encoding="utf-8")

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            page = alice.page
            await sign_up_and_log_in(page, base, "Atelier Dupont SARL", f"{unique_name('a')}@d.fr")
            await page.get_by_role("link", name="Importer un fichier").click()
            await expect(page).to_have_url(re.compile(r"/cases/import$"))
            await checked(alice, "import")
            await page.get_by_label("Fichier CSV").set_input_files(str(csv))
            await page.get_by_role("button", name="Importer le fichier").click()
            await expect(page).to_have_url(re.compile(r"/cases/import/[0-9a-f-]{36}$"))
            import_url = page.url
            # htmx polls the progress until intake answers; the report replaces the bar.
            await expect(page.get_by_text("Import terminé")).to_be_visible(timeout=60_000)
            summary = page.locator("p.summary")
            await expect(summary).to_contain_text("48 dossiers créés")
            await expect(summary).to_contain_text("2 lignes refusées")
            refused = page.locator("table.import-report tbody tr")
            await expect(refused).to_have_count(2)
            await expect(refused.nth(0).locator("th")).to_have_text("11")
            await expect(refused.nth(0)).to_contain_text("amount_due")
            await expect(refused.nth(1).locator("th")).to_have_text("31")
            await expect(refused.nth(1)).to_contain_text("due_date")
            await checked(alice, "import-report")
            await page.goto(f"{base}/cases?q=Client")
            await expect(page.locator("tbody tr")).to_have_count(48)
            await page.goto(f"{base}/account/security")
            await checked(alice, "account-security")
            await page.goto(f"{base}/account/api-keys")
            await page.get_by_label("Nom").fill("Export comptable")
            await page.get_by_label("lire", exact=True).check()
            await page.get_by_role("button", name="Créer la clé").click()
            await expect(page.locator("code.secret")).to_have_text(re.compile(r"\S{20,}"))
            await checked(alice, "api-keys")

            # Creditor B, with JavaScript off: A's import is 404.
            context = await browser.new_context(locale="fr-FR", java_script_enabled=False)
            bob = Watched(await context.new_page())
            await sign_up_and_log_in(bob.page, base, "Bureau Martin", f"{unique_name('b')}@m.fr")
            foreign = await bob.page.goto(import_url)
            assert foreign is not None
            assert foreign.status == 404
            assert "amount_due" not in await bob.page.content()
        finally:
            await browser.close()
