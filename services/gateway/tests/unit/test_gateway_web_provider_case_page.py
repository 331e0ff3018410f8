"""A held case's page over fakes: the holder reads whom to collect from (address included), the
creditor's documents (downloaded through the vault as itself) and the thread; it reports an
action, a payment and writes in the thread, each reaching the service as itself; a bad form
comes back with the rule beside the field and nothing sent; another provider gets 404 on the
page, its document and its forms. Its auto-bid rule is set from a page, its monthly fee
statements download from another."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.adapters.thread import ThreadClient
from gateway.adapters.vault import VaultClient
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.vault.v1 import vault_pb2
from services.gateway.tests.unit.gateway_fakes import (
    CLOSES,
    FakeMatching,
    FakeStore,
    FakeVault,
    http_client,
    marketplace_services,
)
from services.gateway.tests.unit.test_gateway_case_file import CaseFileIntake
from services.gateway.tests.unit.test_gateway_settlement import FakeSettlement
from services.gateway.tests.unit.test_gateway_thread import CASE, FakeThreadService
from services.gateway.tests.unit.test_gateway_web_pages import csrf_of
from services.gateway.tests.unit.test_gateway_web_provider_pages import (
    SIGN_UP,
    approve,
    log_in,
    provider_signed_up,
)

PDF = b"%PDF-1.7\nsigned terms of sale\n"


@dataclasses.dataclass
class World:
    matching: FakeMatching
    intake: CaseFileIntake
    vault: FakeVault
    thread: FakeThreadService
    store: FakeStore


@pytest.fixture
def world(store: FakeStore) -> World:
    return World(FakeMatching(), CaseFileIntake(), FakeVault(), FakeThreadService(), store)


@pytest.fixture
async def browser(
    world: World, passwords: Passwords, tokens: Tokens
) -> AsyncIterator[httpx.AsyncClient]:
    services = dataclasses.replace(
        marketplace_services(world.store, passwords, tokens, world.matching),
        intake=IntakeClient(world.intake),
        vault=VaultClient(world.vault),
        thread=ThreadClient(world.thread),
        secure_cookies=False,
    )
    async with http_client(services) as http:
        yield http


async def holder_logged_in(browser: httpx.AsyncClient, world: World) -> str:
    """An approved provider holding CASE (with one document of the creditor's), logged in."""
    provider_id = await provider_signed_up(browser, world.store)
    await approve(world.store, world.matching, provider_id)
    await log_in(browser, SIGN_UP["email"])
    world.matching.hold(CASE, "creditor-a", provider_id)
    world.intake.holders[CASE] = provider_id
    world.thread.parties.add(provider_id)
    world.vault.grants[CASE] = provider_id
    document = vault_pb2.Document(
        document_id="doc-1",
        case_id=CASE,
        tenant_id="creditor-a",
        kind=vault_pb2.DOCUMENT_KIND_QUOTE_OR_TERMS,
        content_type="application/pdf",
        size_bytes=len(PDF),
        filename="cgv-signees.pdf",
        created_at=CLOSES,
    )
    world.vault.documents["doc-1"] = document
    world.vault.contents["doc-1"] = PDF
    return provider_id


async def test_the_holder_reads_the_debtor_the_documents_and_the_thread(
    browser: httpx.AsyncClient, world: World
) -> None:
    await holder_logged_in(browser, world)
    page = await browser.get(f"/provider/cases/{CASE}")
    assert page.status_code == 200
    assert "Boulangerie Martin SARL" in page.text
    assert "12 rue des Lilas" in page.text
    assert "75011 Paris" in page.text
    assert "compta@martin.example" in page.text
    assert f'href="/provider/cases/{CASE}/documents/doc-1"' in page.text
    assert "cgv-signees.pdf" in page.text
    assert "Aucun message pour l\u2019instant." in page.text

    download = await browser.get(f"/provider/cases/{CASE}/documents/doc-1")
    assert download.status_code == 200
    assert download.content == PDF
    assert 'filename="cgv-signees.pdf"' in download.headers["content-disposition"]
    [(caller, _)] = world.vault.called("GetDocument")
    assert caller is not None
    assert caller.kind == "provider"


async def test_the_holder_reports_an_action_a_payment_and_writes_in_the_thread(
    browser: httpx.AsyncClient, world: World
) -> None:
    provider_id = await holder_logged_in(browser, world)
    page = await browser.get(f"/provider/cases/{CASE}")
    token = csrf_of(page)
    key = re.search(r'name="form_key" value="([0-9a-f-]+)"', page.text)
    assert key is not None
    action = {"csrf_token": token, "form_key": key.group(1), "kind": "call", "note": "Comptable"}
    for _ in range(2):  # sent twice (a double click): one action
        sent = await browser.post(f"/provider/cases/{CASE}/actions", data=action)
        assert (sent.status_code, sent.headers["location"]) == (
            303,
            f"/provider/cases/{CASE}?done=action#actions",
        )
    assert len(world.matching.activity[CASE].actions) == 1
    assert world.matching.activity[CASE].actions[0].note == "Comptable"

    paid = await browser.post(
        f"/provider/cases/{CASE}/payments",
        data={
            "csrf_token": token,
            "amount": "400,00",
            "paid_on": "2026-11-30",
            "reference": "VIR-42",
        },
    )
    assert paid.status_code == 303
    [(caller, request)] = world.matching.called("ReportPayment")
    assert caller is not None
    assert caller.tenant_id == provider_id
    assert (request.amount.minor_units, request.reference) == (40_000, "VIR-42")

    wrote = await browser.post(
        f"/provider/cases/{CASE}/thread",
        data={"csrf_token": token, "to": ["creditor", "debtor"], "text": "Relance envoyée"},
    )
    assert wrote.status_code == 303
    [message] = world.thread.messages
    assert list(message.to) == ["creditor", "debtor"]

    page = await browser.get(wrote.headers["location"])
    assert "Votre message est envoyé." in page.text
    assert "Relance envoyée" in page.text
    assert "VIR-42" in page.text
    assert "400,00\u00a0€" in page.text


async def test_a_bad_form_shows_the_rule_beside_the_field_and_sends_nothing(
    browser: httpx.AsyncClient, world: World
) -> None:
    await holder_logged_in(browser, world)
    token = csrf_of(await browser.get(f"/provider/cases/{CASE}"))
    refused = await browser.post(
        f"/provider/cases/{CASE}/payments",
        data={"csrf_token": token, "amount": "-5", "paid_on": "30/11/2026", "reference": ""},
    )
    assert refused.status_code == 422
    assert re.search(r'id="amount-error">[^<]+', refused.text)
    assert re.search(r'id="paid_on-error">[^<]+', refused.text)
    assert re.search(r'id="reference-error">[^<]+', refused.text)
    assert "Boulangerie Martin SARL" in refused.text  # the case page again, around the form
    assert world.matching.called("ReportPayment") == []

    refused = await browser.post(
        f"/provider/cases/{CASE}/actions",
        data={"csrf_token": token, "kind": "call", "promised_on": "2026-12-15"},
    )
    assert refused.status_code == 422
    assert re.search(r'id="promised_on-error">[^<]+', refused.text)
    assert world.matching.called("ReportAction") == []


async def test_another_provider_gets_404_on_the_page_the_document_and_the_forms(
    browser: httpx.AsyncClient, world: World
) -> None:
    await holder_logged_in(browser, world)
    world.intake.holders[CASE] = "provider-b"
    world.vault.grants[CASE] = "provider-b"
    world.matching.holders[CASE] = "provider-b"
    page = await browser.get(f"/provider/cases/{CASE}")
    assert page.status_code == 404
    assert "Boulangerie" not in page.text
    document = await browser.get(f"/provider/cases/{CASE}/documents/doc-1")
    assert document.status_code == 404
    assert PDF not in document.content
    token = csrf_of(await browser.get("/provider"))
    action = await browser.post(
        f"/provider/cases/{CASE}/actions", data={"csrf_token": token, "kind": "call"}
    )
    assert action.status_code == 404
    assert world.matching.called("ReportAction") == []


async def test_an_auto_bid_rule_is_set_from_its_page_and_a_bad_one_is_refused_beside_its_field(
    browser: httpx.AsyncClient, world: World
) -> None:
    provider_id = await holder_logged_in(browser, world)
    form = await browser.get("/provider/rules")
    assert form.status_code == 200
    assert "Règles d\u2019enchère automatique" in form.text
    token = csrf_of(form)
    refused = await browser.post(
        "/provider/rules",
        data={
            "csrf_token": token,
            "name": "PME Lyon",
            "fee_percent": "11",
            "min_amount": "5000",
            "max_amount": "abc",
        },
    )
    assert refused.status_code == 422
    assert re.search(r'id="max_amount-error">[^<]+', refused.text)
    assert 'value="PME Lyon"' in refused.text
    assert world.matching.called("SetAutoBidRule") == []

    saved = await browser.post(
        "/provider/rules",
        data={
            "csrf_token": token,
            "name": "PME Lyon",
            "fee_percent": "11,5",
            "segments": ["disputing", "bad-faith"],
            "min_trustscore": "40",
            "max_amount": "50 000",
            "debtor_types": "business",
        },
    )
    assert saved.status_code == 200
    assert "Règle enregistrée" in saved.text
    assert "11.5 %" in saved.text
    [(caller, request)] = world.matching.called("SetAutoBidRule")
    assert caller is not None
    assert caller.tenant_id == provider_id
    assert (request.name, request.fee.basis_points, request.max_amount_minor) == (
        "PME Lyon",
        1150,
        5_000_000,
    )
    assert list(request.segments) == ["disputing", "bad-faith"]
    assert list(request.debtor_types) == ["business"]


async def test_a_case_just_accepted_waits_for_its_file_and_another_case_is_still_404(
    browser: httpx.AsyncClient, world: World
) -> None:
    await holder_logged_in(browser, world)
    del world.intake.holders[CASE]  # matching assigned it; intake has not heard yet
    page = await browser.get(f"/provider/cases/{CASE}")
    assert page.status_code == 200
    assert "Votre nouveau dossier" in page.text
    assert f'hx-get="/provider/cases/{CASE}" hx-trigger="every 2s"' in page.text
    assert "Boulangerie" not in page.text
    assert (await browser.get("/provider/cases/case-of-nobody")).status_code == 404


async def test_the_fees_page_lists_the_months_and_a_statement_downloads_as_the_provider(
    world: World, passwords: Passwords, tokens: Tokens
) -> None:
    settlement = FakeSettlement()
    services = dataclasses.replace(
        marketplace_services(world.store, passwords, tokens, world.matching),
        settlement=SettlementClient(settlement),
        secure_cookies=False,
    )
    async with http_client(services) as browser:
        provider_id = await provider_signed_up(browser, world.store)
        await approve(world.store, world.matching, provider_id)
        await log_in(browser, SIGN_UP["email"])
        page = await browser.get("/provider/fees")
        assert page.status_code == 200
        assert "Vos honoraires" in page.text
        assert page.text.count('href="/provider/fees/') == 24  # 12 months, CSV and PDF
        csv = await browser.get("/provider/fees/2026-11?format=csv")
        assert csv.status_code == 200
        assert csv.content == f"date;entry_no;{provider_id}\r\n".encode()
        assert f"statement-provider-{provider_id}-2026-11.csv" in csv.headers["content-disposition"]
        refused = await browser.get("/provider/fees/2026-13")
        assert refused.status_code == 422


async def test_the_rules_page_lists_the_providers_rules_and_removes_one(
    browser: httpx.AsyncClient, world: World
) -> None:
    provider_id = await holder_logged_in(browser, world)
    empty = await browser.get("/provider/rules")
    assert "Aucune règle pour l'instant" in empty.text
    token = csrf_of(empty)
    for name, fee, smallest in (("PME Lyon", "11,5", "5 000"), ("Tout / le reste", "9", "")):
        saved = await browser.post(
            "/provider/rules",
            data={"csrf_token": token, "name": name, "fee_percent": fee, "min_amount": smallest},
        )
        assert saved.status_code == 200, saved.text
    listed = await browser.get("/provider/rules")
    rows = re.findall(r'<tr id="rule-\d+">(.*?)</tr>', listed.text, re.S)
    assert [re.search(r"<td>([^<]*)</td>", row).group(1) for row in rows] == [  # type: ignore[union-attr]
        "PME Lyon",
        "Tout / le reste",
    ]
    assert "5\u202f000,00\xa0€" in rows[0]
    removed = await browser.post(
        "/provider/rules/Tout%20%2F%20le%20reste/delete", data={"csrf_token": token}
    )
    assert (removed.status_code, removed.headers["location"]) == (303, "/provider/rules")
    [(caller, request)] = world.matching.called("DeleteAutoBidRule")
    assert caller is not None
    assert (caller.tenant_id, request.name) == (provider_id, "Tout / le reste")
    after = await browser.get("/provider/rules")
    assert "Tout / le reste" not in after.text
    assert "PME Lyon" in after.text
    again = await browser.post(
        "/provider/rules/Tout%20%2F%20le%20reste/delete", data={"csrf_token": token}
    )
    assert again.status_code == 404


async def test_the_fees_page_shows_the_providers_own_record_per_segment(
    browser: httpx.AsyncClient, world: World
) -> None:
    provider_id = await holder_logged_in(browser, world)
    assert "Pas encore de résultats" in (await browser.get("/provider/fees")).text
    world.matching.records[provider_id] = [
        pb.ProviderRecord(
            segment="disputing",
            cases_finished=4,
            cases_recovered=3,
            recovery_rate="0.7500",
            amount_recovered_share="0.8125",
            average_days_to_recover="23.5",
            offers_received=5,
            offers_answered_in_time=4,
        )
    ]
    world.matching.records["someone-else"] = [pb.ProviderRecord(segment="bad-faith")]
    page = await browser.get("/provider/fees")
    rows = re.findall(r"<tr>\s*<td>(.*?)</tr>", page.text, re.S)
    cells = [re.sub(r"<[^>]+>|\s+", " ", row).split() for row in rows if "23.5" in row]
    assert cells, page.text
    assert " ".join(cells[0]) == "conteste 4 3 (75 %) 81 % 23.5 4 / 5"  # the segment in French
    assert "bad-faith" not in page.text
    [(caller, _)] = world.matching.called("GetOwnRecord")[-1:]
    assert caller is not None
    assert caller.tenant_id == provider_id
