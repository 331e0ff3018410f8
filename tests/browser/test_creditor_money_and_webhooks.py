"""A creditor's money and webhook pages in Debian's Chromium, against the real stack and the
gateway, intake, settlement and messaging as processes: the money page opens with its payouts,
fee invoices and the monthly statement, which downloads as settlement wrote it; a webhook
endpoint on a private address is refused with messaging's rule beside the address, one on a
public address is registered and its signing secret shown once; a second creditor gets 404 on
the first one's endpoint. Every page is checked with axe-core and screenshotted."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.browser.test_creditor_journey import sign_up_and_log_in
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import wait_http
from tests.support.stack import free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

PUBLIC_URL = "https://185.15.59.224/hooks/recouvra"


async def test_a_creditor_reads_its_money_and_registers_a_webhook_and_nobody_else_sees_it(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_webmoney") + "."
    intake = run_service("intake", make_database("intake"), prefix)
    settlement = run_service(
        "settlement",
        make_database("settlement"),
        prefix,
        intake_target=intake.target,
        bridge_api_url=f"http://127.0.0.1:{free_port()}",
    )
    parties = tmp_path / "parties.json"
    parties.write_text(json.dumps({"providers": {}, "creditors": {}}))
    messaging = run_service(
        "messaging",
        make_database("messaging"),
        prefix,
        intake_target=intake.target,
        settlement_target=settlement.target,
        parties_file=str(parties),
        letters_dir=str(tmp_path / "letters"),
    )
    http_port = free_port()
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        settlement_target=settlement.target,
        messaging_target=messaging.target,
    )
    processes = (intake, settlement, messaging, gateway)
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes))
    base = f"http://127.0.0.1:{http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await wait_http(client, gateway)

    month = datetime.now(UTC).strftime("%Y-%m")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            page = alice.page
            await sign_up_and_log_in(
                page, base, "Atelier Dupont SARL", f"{unique_name('alice')}@atelier-dupont.fr"
            )

            # Money: nothing paid out or invoiced yet, said plainly; the statement downloads.
            await page.get_by_role("link", name="Argent").click()
            await expect(page).to_have_url(re.compile(r"/money$"))
            await expect(page.get_by_text("Aucun reversement pour l'instant")).to_be_visible()
            await expect(page.get_by_text("Aucune facture d'honoraires")).to_be_visible()
            await expect(page.get_by_label(re.compile("^Mois"))).to_have_value(month)
            await checked(alice, "money")
            await page.get_by_label("CSV (pour un tableur)").check()
            async with page.expect_download() as downloading:
                await page.get_by_role("button", name="Télécharger le relevé").click()
            download = await downloading.value
            assert download.suggested_filename.endswith(f"{month}.csv")
            statement = await asyncio.to_thread(Path(await download.path()).read_text, "utf-8")
            assert ";" in statement.splitlines()[0]

            # Webhooks: a private address is refused beside the field, the values kept.
            await page.goto(f"{base}/account/security")
            await page.get_by_role("link", name="Webhooks").click()
            await expect(page).to_have_url(re.compile(r"/account/webhooks$"))
            await expect(page.get_by_text("Aucune adresse pour l'instant.")).to_be_visible()
            await checked(alice, "webhooks")
            await page.get_by_label(re.compile(r"^Adresse \(https\)")).fill("https://10.0.0.7/hook")
            await page.locator("#event-payment\\.received").check()
            await page.get_by_role("button", name="Enregistrer l'adresse").click()
            await expect(page.locator("#url-error")).to_contain_text("adresse locale, privée")
            await expect(page.locator("#url")).to_have_value("https://10.0.0.7/hook")
            await expect(page.locator("#event-payment\\.received")).to_be_checked()
            await checked(alice, "webhooks-refused")

            # A public address: registered, its secret shown on this answer only. An address, not
            # a name: messaging resolves a name at once and this machine has no DNS. Nothing is
            # ever posted to it: this creditor has no case, and the endpoint is paused below.
            await page.locator("#url").fill(PUBLIC_URL)
            await page.locator("#event-case\\.closed").check()
            await page.get_by_role("button", name="Enregistrer l'adresse").click()
            secret = page.locator("code.secret")
            await expect(secret).to_contain_text("whsec_")
            await checked(alice, "webhooks-registered")
            endpoint = page.get_by_role("link", name=PUBLIC_URL)
            await endpoint.click()
            await expect(page).to_have_url(re.compile(r"/account/webhooks/[0-9a-f-]{36}$"))
            endpoint_url = page.url
            await expect(page.get_by_text("Rien n'a encore été envoyé.")).to_be_visible()
            assert "whsec_" not in await page.content()
            await checked(alice, "webhook")
            await page.get_by_role("button", name="Mettre en pause").click()
            await expect(page.get_by_role("button", name="Réactiver")).to_be_visible()

            # Creditor B: A's endpoint is 404, and B's own list is empty.
            context = await browser.new_context(locale="fr-FR", java_script_enabled=False)
            bob = await context.new_page()
            await sign_up_and_log_in(bob, base, "Bureau Martin", f"{unique_name('bob')}@martin.fr")
            foreign = await bob.goto(endpoint_url)
            assert foreign is not None
            assert foreign.status == 404
            assert PUBLIC_URL not in await bob.content()
            await bob.goto(f"{base}/account/webhooks")
            await expect(bob.get_by_text("Aucune adresse pour l'instant.")).to_be_visible()
        finally:
            await browser.close()
