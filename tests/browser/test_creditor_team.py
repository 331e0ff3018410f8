"""A creditor's team in Debian's Chromium, against the real stack with intake and the gateway as
processes: the admin invites a colleague (a wrong e-mail refused beside its field first), passes
on the link shown once; the colleague opens it in another browser, sets a password (too short
first), lands on the same organisation's dashboard, and cannot use the link again; the admin
sees the colleague in the team, makes the colleague an admin, then removes the colleague, whose
open session ends at once. Every page is screenshotted and checked with axe-core (a serious
or critical violation, or a CSP violation, fails the test)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest
from playwright.async_api import async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.browser.test_creditor_journey import PASSWORD, sign_up_and_log_in
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import wait_http
from tests.support.stack import Stack, free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_an_admin_invites_a_colleague_who_joins_the_same_team_once(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
) -> None:
    prefix = unique_name("e2e_team") + "."
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
    colleague = f"{unique_name('bob')}@atelier-dupont.fr"

    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            page = alice.page
            await sign_up_and_log_in(
                page, base, "Atelier Dupont SARL", f"{unique_name('alice')}@atelier-dupont.fr"
            )
            await page.get_by_role("link", name="Équipe").click()
            await expect(page).to_have_url(re.compile(r"/account/team$"))
            await expect(page.get_by_text("Aucune invitation en attente.")).to_be_visible()
            await checked(alice, "team")

            await page.get_by_label("E-mail").fill("pas-un-email")
            await page.get_by_role("button", name="Inviter", exact=True).click()
            await expect(page.locator("#email-error")).to_contain_text("adresse e-mail")
            await checked(alice, "team-refused")

            await page.get_by_label("E-mail").fill(colleague)
            await page.get_by_label("Rôle", exact=True).select_option("member")
            await page.get_by_role("button", name="Inviter", exact=True).click()
            secret = page.locator("code.secret")
            await expect(secret).to_contain_text("/invitations/")
            link = (await secret.inner_text()).strip()
            await expect(page.get_by_role("cell", name=colleague, exact=True)).to_be_visible()
            await checked(alice, "team-invited")

            bob = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            await bob.page.goto(link)
            await expect(bob.page.get_by_role("heading", level=1)).to_contain_text(
                "Atelier Dupont SARL"
            )
            await expect(bob.page.get_by_text(colleague)).to_be_visible()
            await checked(bob, "invitation")
            await bob.page.get_by_label("Mot de passe").fill("court")
            await bob.page.get_by_role("button", name="Rejoindre l'équipe").click()
            await expect(bob.page.locator("#password-error")).to_contain_text("12")
            await checked(bob, "invitation-refused")
            await bob.page.get_by_label("Mot de passe").fill(PASSWORD)
            await bob.page.get_by_role("button", name="Rejoindre l'équipe").click()
            await expect(bob.page).to_have_url(re.compile(r"/dashboard$"))

            await bob.page.goto(link)
            await expect(bob.page.get_by_text("déjà été utilisé")).to_be_visible()
            await checked(bob, "invitation-used")
            # A member sees the team, not the invitations nor the form.
            await bob.page.goto(f"{base}/account/team")
            await expect(
                bob.page.get_by_text("Un administrateur de votre organisation")
            ).to_be_visible()
            await expect(bob.page.get_by_role("button", name="Inviter", exact=True)).to_have_count(
                0
            )
            await checked(bob, "team-member")

            await page.goto(f"{base}/account/team")
            role = page.get_by_label(f"Rôle de {colleague}", exact=True)
            await expect(role).to_have_value("member")
            await expect(page.get_by_text("Aucune invitation en attente.")).to_be_visible()

            # The admin makes the colleague an admin, who then sees the invitation form.
            await role.select_option("admin")
            await page.get_by_role("button", name=f"Modifier le rôle de {colleague}").click()
            await expect(page.get_by_text("Le rôle a été modifié.")).to_be_visible()
            await expect(page.get_by_label(f"Rôle de {colleague}", exact=True)).to_have_value(
                "admin"
            )
            await checked(alice, "team-role-changed")
            await bob.page.reload()
            await expect(bob.page.get_by_role("button", name="Inviter", exact=True)).to_be_visible()

            # Then removes the colleague: the colleague's open session ends at once.
            await page.get_by_role("button", name=f"Retirer de l'équipe : {colleague}").click()
            await expect(page.get_by_text("retirée de votre équipe")).to_be_visible()
            await expect(page.get_by_role("cell", name=colleague, exact=True)).to_have_count(0)
            await checked(alice, "team-removed")
            await bob.page.reload()
            await expect(bob.page).to_have_url(re.compile(r"/login"))
        finally:
            await browser.close()
