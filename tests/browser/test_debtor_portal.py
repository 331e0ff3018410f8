"""A debtor's journey through the portal in Debian's Chromium, at a phone's size, against the real
stack, Mailpit and intake, the vault, messaging, settlement, the gateway and the Bridge sandbox
(and scoring, for the creditor's case page) as processes.

A creditor submits a case through its pages; the case is awarded (scoring's and matching's facts
are published on Kafka as those services publish them: the auction itself is
tests/e2e/test_matching_marketplace_flow.py's subject). Messaging posts the first letter, and a
few days later (its test clock) its first e-mail reaches Mailpit with the portal link. The debtor
opens that link, gives a wrong second factor (the attempts left are shown, nothing else), then
its postal code; reads the claim; proposes a three-month plan that the creditor's default policy
accepts, and sees its schedule. The "pay by bank" button for the first instalment lands on the
Bridge sandbox's page. axe-core checks every portal page; screenshots in var/screenshots/.
The creditor then reads the agreed plan on its case page."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from playwright.async_api import FilePayload, Page, async_playwright, expect

from messaging.adapters.calendar import FrenchHolidays
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.browser.pages import SCREENSHOTS, Watched, checked, launch
from tests.browser.test_creditor_journey import sign_up_and_log_in
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import OffsetClock, eventually, wait_http
from tests.support.stack import Stack, free_port, unique_name

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PARIS = ZoneInfo("Europe/Paris")
MAILPIT = os.environ.get("RECOUVRA_MAILPIT_URL", "http://127.0.0.1:18025")  # stack.sh env
HOLDER_ID = "prov-portal-holder"
PHONE = {"width": 390, "height": 844}
POSTAL_CODE = "69003"
HOLDER = {
    "name": "Cabinet Durand Recouvrement",
    "address_lines": ["4 place Bellecour"],
    "postal_code": "69002",
    "city": "Lyon",
}
CREDITOR = {
    "name": "Atelier Dupont SARL",
    "address_lines": ["8 avenue Foch"],
    "postal_code": "75016",
    "city": "Paris",
}


# A small, well-formed PDF (the vault tells the type from the bytes, not the name).
PROOF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def pdf_named(name: str) -> FilePayload:
    return {"name": name, "mimeType": "application/pdf", "buffer": PROOF}


async def submit_case(page: Page, base: str, today: date, debtor: str, invoice: str) -> str:
    """A case against another debtor (messaging's contact limits count per debtor: the first
    one had its e-mail today), submitted through the creditor's pages; its id."""
    await page.goto(f"{base}/cases/new")
    await page.locator("#debtor-name").fill(debtor)
    await page.locator("#debtor-siren_or_siret").fill("732829320")
    await page.locator("#debtor-address-lines-0").fill("3 rue de Rome")
    await page.locator("#debtor-address-postal_code").fill("13001")
    await page.locator("#debtor-address-city").fill("Marseille")
    await page.locator("#invoices-0-invoice_number").fill(invoice)
    await page.locator("#invoices-0-issue_date").fill((today - timedelta(days=90)).isoformat())
    await page.locator("#invoices-0-due_date").fill((today - timedelta(days=60)).isoformat())
    await page.locator("#invoices-0-amount_due-amount").fill("480.00")
    await page.get_by_role("button", name="Déposer le dossier").click()
    await expect(page).to_have_url(re.compile(r"/cases/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]


def quiet_monday_11h_paris(now: datetime) -> datetime:
    """The next Monday, 11:00 in Paris, that is no holiday and neither is the Thursday after: the
    first letter (step 1) and the first e-mail (step 2, day 7 or 10 by strategy) go then."""
    holidays = FrenchHolidays()
    day = now.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() != 0 or holidays(day) or holidays(day + timedelta(days=10)):
        day += timedelta(days=1)
    return datetime.combine(day, time(11), PARIS)


@pytest.fixture
def bridge_sandbox(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """The Bridge sandbox (python -m settlement.sandbox) posting to settlement's webhooks."""
    started: list[subprocess.Popen[bytes]] = []

    def start(webhook_port: int) -> str:
        port = free_port()
        log = (tmp_path / "bridge-sandbox.log").open("ab")
        started.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "settlement.sandbox",
                    "--port",
                    str(port),
                    "--webhook-url",
                    f"http://127.0.0.1:{webhook_port}/webhooks/bridge",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


async def creditor_of(database_url: str, case_id: str) -> str:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        found = await connection.fetchval(
            "SELECT creditor_id FROM cases WHERE case_id = $1", case_id
        )
        return str(found)
    finally:
        await connection.close()


async def portal_link_mailed_to(address: str, base: str) -> str | None:
    """The portal link in the e-mail Mailpit holds for `address`, once it arrived."""
    async with httpx.AsyncClient(base_url=MAILPIT, timeout=10) as mailpit:
        found = (await mailpit.get("/api/v1/search", params={"query": f'to:"{address}"'})).json()
        for summary in found.get("messages") or []:
            mail = (await mailpit.get(f"/api/v1/message/{summary['ID']}")).json()
            link = re.search(rf"{re.escape(base)}/portal/[A-Za-z0-9._~-]+", mail.get("Text", ""))
            if link:
                return link.group(0)
    return None


async def test_a_debtor_opens_the_emailed_link_proposes_a_plan_and_reaches_its_bank(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    bridge_sandbox: Callable[[int], str],
    tmp_path: Path,
) -> None:
    prefix = unique_name("e2e_portal") + "."
    clock = OffsetClock(tmp_path / "clock-offset")
    moment = quiet_monday_11h_paris(datetime.now(UTC))
    clock.advance(moment - datetime.now(UTC))
    messaging_today: date = moment.date() + timedelta(days=10)  # when the e-mail goes
    parties = tmp_path / "parties.json"
    parties.write_text(json.dumps({"providers": {HOLDER_ID: HOLDER}, "creditors": {}}))
    http_port, webhook_port = free_port(), free_port()
    base = f"http://127.0.0.1:{http_port}"
    sandbox_url = bridge_sandbox(webhook_port)

    intake_db = make_database("intake")
    intake = run_service("intake", intake_db, prefix)
    scoring = run_service("scoring", make_database("scoring"), prefix, intake_target=intake.target)
    settlement = run_service(
        "settlement",
        make_database("settlement"),
        prefix,
        bridge_api_url=sandbox_url,
        http_port=str(webhook_port),
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
    messaging = run_service(
        "messaging",
        make_database("messaging"),
        prefix,
        intake_target=intake.target,
        settlement_target=settlement.target,
        vault_target=vault.target,
        parties_file=str(parties),
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
        portal_base_url=base,
        letters_dir=str(tmp_path / "letters"),
        sms_file=str(tmp_path / "sms.jsonl"),
    )
    gateway = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        vault_target=vault.target,
        messaging_target=messaging.target,
        settlement_target=settlement.target,
        scoring_target=scoring.target,
    )
    for process in (
        intake,
        scoring,
        settlement,
        vault,
        messaging,
        gateway,
    ):  # one at a time: kinder
        await asyncio.to_thread(process.start)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await wait_http(client, gateway)
    producers: dict[str, AIOKafkaProducer] = {}
    for service in ("scoring", "matching"):
        producers[service] = AIOKafkaProducer(
            **kafka_as(service, prefix).client_options(), enable_idempotence=True, acks="all"
        )
        await producers[service].start()

    async def publish(
        producer: str, event_type: str, case_id: str, tenant: str, payload: Message
    ) -> None:
        event = new_event(
            producer=producer,
            event_type=event_type,
            version=1,
            case_id=case_id,
            tenant_id=tenant,
            payload=payload,
        )
        await producers[producer].send_and_wait(
            prefix + event.topic, event.envelope.SerializeToString(), key=case_id.encode()
        )

    today = datetime.now(UTC).date()
    expect.set_options(timeout=30_000)  # seven processes on a busy machine: log-in hashes slowly
    debtor_email = f"{unique_name('compta')}@transports-lefevre.example"
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            # The creditor submits the case through its pages.
            alice = Watched(await (await browser.new_context(locale="fr-FR")).new_page())
            page = alice.page
            await sign_up_and_log_in(
                page, base, "Atelier Dupont SARL", f"{unique_name('a')}@dupont.fr"
            )
            await page.goto(f"{base}/cases/new")
            await page.locator("#debtor-name").fill("Transports Lefèvre SAS")
            await page.locator("#debtor-siren_or_siret").fill("552100554")
            await page.locator("#debtor-email").fill(debtor_email)
            await page.locator("#debtor-address-lines-0").fill("12 rue Garibaldi")
            await page.locator("#debtor-address-postal_code").fill(POSTAL_CODE)
            await page.locator("#debtor-address-city").fill("Lyon")
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
            case_id = case_url.rsplit("/", 1)[1]

            # The case is scored and awarded: messaging's first e-mail carries the portal link.
            creditor_id = await creditor_of(intake_db, case_id)
            parties.write_text(
                json.dumps({"providers": {HOLDER_ID: HOLDER}, "creditors": {creditor_id: CREDITOR}})
            )
            await publish(
                "scoring",
                "case-scored",
                case_id,
                creditor_id,
                CaseScored(case_id=case_id, strategy="amicable-reminders"),
            )
            await publish(
                "matching",
                "case-assigned",
                case_id,
                creditor_id,
                CaseAssigned(case_id=case_id, provider_id=HOLDER_ID, round=1),
            )

            # Step 1 is the first letter (R124-4); the first e-mail is step 2, a week later.
            letters = tmp_path / "letters"

            async def letter_sent() -> bool | None:
                return True if letters.exists() and any(letters.rglob("*.pdf")) else None

            async def mailed() -> str | None:
                return await portal_link_mailed_to(debtor_email, base)

            try:
                await eventually(letter_sent, "the first letter is posted", within=180)
                clock.advance(timedelta(days=10))  # step 2 is due on day 7 or 10
                link = await eventually(mailed, "the first e-mail reaches Mailpit", within=180)
            except AssertionError as failed:
                log = (tmp_path / "messaging.log").read_text(encoding="utf-8")[-6000:]
                raise AssertionError(f"{failed}; messaging's log ends with:\n{log}") from None

            # The debtor, on a phone: the link asks the second factor and shows nothing else.
            phone = await browser.new_context(
                locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True
            )
            debtor = Watched(await phone.new_page())
            dpage = debtor.page
            await dpage.goto(link)
            await expect(dpage.get_by_role("heading", level=1)).to_have_text("Ouvrir votre dossier")
            assert "Lefèvre" not in await dpage.content()
            await checked(debtor, "portal-second-factor")
            await dpage.get_by_label("Numéro de facture ou code postal").fill("75001")
            await dpage.get_by_role("button", name="Ouvrir mon dossier").click()
            await expect(dpage.locator("#second_factor-error")).to_contain_text(
                "Essais restants : 4"
            )
            assert "Lefèvre" not in await dpage.content()
            await checked(debtor, "portal-second-factor-wrong")
            await dpage.get_by_label("Numéro de facture ou code postal").fill(POSTAL_CODE)
            await dpage.get_by_role("button", name="Ouvrir mon dossier").click()
            await expect(dpage).to_have_url(re.compile(r"/portal/claim$"))
            await expect(dpage.get_by_text("Transports Lefèvre SAS")).to_be_visible()
            await expect(dpage.get_by_role("cell", name="F-2026-0042")).to_be_visible()
            await expect(dpage.locator("svg.qr")).to_be_visible()
            await expect(dpage.locator("dd.copy").nth(2)).to_contain_text("RF")
            await checked(debtor, "portal-claim")

            # A three-month plan inside the default policy: agreed at once, its schedule shown.
            await dpage.get_by_label("Nombre de paiements").fill("3")
            await dpage.get_by_label("Date du premier paiement").fill(
                (messaging_today + timedelta(days=5)).isoformat()
            )
            await dpage.get_by_label("À quel rythme").select_option("monthly")
            await dpage.get_by_role("button", name="Proposer cet échéancier").click()
            await expect(dpage.locator("#plan .state")).to_have_text("accepté")
            await expect(dpage.locator("#plan tbody tr")).to_have_count(3)
            await checked(debtor, "portal-plan-agreed")

            # A dispute with a PDF proof: stored in the vault as the case's evidence.
            await dpage.get_by_label("Pourquoi").select_option("defective")
            await dpage.get_by_label("Expliquez avec vos mots").fill("Palette reçue cassée.")
            await dpage.get_by_label("Vos justificatifs (facultatif)").set_input_files(
                pdf_named("photo-palette.pdf")
            )
            await dpage.get_by_role("button", name="Envoyer ma contestation").click()
            await expect(dpage).to_have_url(re.compile(r"/portal/claim\?done=dispute"))
            await expect(dpage.locator("#dispute .proofs a")).to_have_text("photo-palette.pdf")
            await checked(debtor, "portal-dispute-with-proof")

            # "I paid already": a payment more than owed is refused beside the field, then the
            # right one, with its proof, shows as being checked.
            await dpage.get_by_label("Montant payé en euros").fill("99 999,00")
            await dpage.locator("#declare_paid_on").fill(today.isoformat())
            await dpage.get_by_label("Justificatif de paiement").set_input_files(
                pdf_named("virement.pdf")
            )
            await dpage.get_by_role("button", name="Déclarer ce paiement").click()
            await expect(dpage.locator("#declare_amount-error")).to_have_text(
                "pas plus que ce qui est dû"
            )
            await checked(debtor, "portal-declared-payment-refused")
            await dpage.get_by_label("Montant payé en euros").fill("100,00")
            await dpage.locator("#declare_method").select_option("cheque")
            await dpage.get_by_label("Référence du paiement").fill("CHQ 0004512")
            await dpage.get_by_label("Justificatif de paiement").set_input_files(
                pdf_named("virement.pdf")
            )
            await dpage.get_by_role("button", name="Déclarer ce paiement").click()
            await expect(dpage.locator("#declare .declaration")).to_contain_text(
                "(chèque, référence CHQ 0004512): en cours de vérification"
            )
            await expect(dpage.locator("#declare .proofs a")).to_have_text("virement.pdf")
            await checked(debtor, "portal-declared-payment")
            proof_href = await dpage.locator("#declare .proofs a").get_attribute("href")
            assert proof_href is not None
            mine = await dpage.request.get(f"{base}{proof_href}")
            assert (mine.status, await mine.body()) == (200, PROOF)

            # Pay by bank, for the first instalment: the sandbox's page for that amount.
            button = dpage.get_by_role("link", name=re.compile(r"Payer par virement · échéance 1"))
            await button.click()
            await expect(dpage).to_have_url(re.compile(re.escape(sandbox_url)))
            await expect(dpage.get_by_text("SANDBOX").first).to_be_visible()
            await dpage.screenshot(
                path=str(SCREENSHOTS / "portal-bank-sandbox.png"), caret="initial"
            )

            # The creditor sees the plan on the case page.
            await page.goto(case_url)
            try:
                await expect(page.locator("#debtor-actions")).to_be_visible()
            except AssertionError:
                log = (tmp_path / "gateway.log").read_text(encoding="utf-8")
                found = [line for line in log.splitlines() if "warning" in line or "error" in line]
                raise AssertionError("no debtor's answers:\n" + "\n".join(found[-8:])) from None
            await expect(page.locator("#debtor-actions + h3")).to_contain_text("accepté")
            await checked(alice, "case-with-plan")

            # ... and the dispute and the declared payment, each with its proof, downloaded
            # from the vault with the creditor's own rights.
            answers = page.locator("#debtor-actions ~ ul.proofs a")
            await expect(answers).to_have_text(["photo-palette.pdf", "virement.pdf"])
            await expect(page.get_by_text("Paiement déclaré par le débiteur")).to_contain_text(
                "100,00\u00a0€, payé le " + today.isoformat() + ", chèque, référence CHQ 0004512"
            )
            for proof_link in await answers.all():
                href = await proof_link.get_attribute("href")
                assert href is not None
                assert href.startswith(f"/cases/{case_id}/documents/")
                got = await page.request.get(f"{base}{href}")
                assert (got.status, await got.body()) == (200, PROOF)
            await checked(alice, "case-with-debtor-proof")

            # Another case of the creditor: the debtor's session for the first opens nothing of
            # it, neither through its URL nor its documents (its first letter is shareable).
            other_case = await submit_case(page, base, today, "Boulangerie Roux", "B-77")
            await publish(
                "scoring",
                "case-scored",
                other_case,
                creditor_id,
                CaseScored(case_id=other_case, strategy="amicable-reminders"),
            )
            await publish(
                "matching",
                "case-assigned",
                other_case,
                creditor_id,
                CaseAssigned(case_id=other_case, provider_id=HOLDER_ID, round=1),
            )

            async def other_letter() -> str | None:
                await page.goto(f"{base}/cases/{other_case}")
                found = page.locator(f'a[href^="/cases/{other_case}/documents/"]')
                if await found.count() == 0:
                    return None
                href = await found.first.get_attribute("href")
                return href.rsplit("/", 1)[-1] if href else None

            letter_b = await eventually(other_letter, "case B's first letter", within=180)
            for foreign in (
                f"{base}/portal/documents/{letter_b}",
                f"{base}/cases/{other_case}",
                f"{base}/cases/{other_case}/documents/{letter_b}",
            ):
                refused = await dpage.request.get(foreign, max_redirects=0)
                assert refused.status in (303, 401, 404), (foreign, refused.status)
                assert b"%PDF" not in await refused.body()
                assert b"Roux" not in await refused.body()
            # The proof of case A's debtor is still its own.
            mine = await dpage.request.get(f"{base}{proof_href}")
            assert mine.status == 200
        finally:
            await browser.close()
            for producer in producers.values():
                await producer.stop()
