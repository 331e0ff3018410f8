"""The creditor's CSV import page (progress polled, then each refused row) and the quote on the
case page (the provider's measured record, accept or decline), over fakes, as a browser would
use them, and as another creditor trying the first one's import and quote."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.adapters.matching import QuoteClient
from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.http import create_app
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.intake.v1 import intake_pb2
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import caller_var
from recouvra_shared.errors import NotFound
from services.gateway.tests.unit.gateway_fakes import FakeMatching, FakeStore, status_for
from services.gateway.tests.unit.test_gateway_web_pages import (
    CASE_FORM,
    PASSWORD,
    FakeIntake,
    another_browser,
    csrf_of,
    post_form,
    services_for,
)

CSV = (
    b"debtor_name,debtor_siren,invoice_number,amount_due\n"
    b"ok Transports Lefevre,552100554,F-1,100.00\n"
    b"bad Garage Martin,123,F-2,50.00\n"
    b"ok Boulangerie Roux,552100554,F-3,75.00\n"
)


class ImportingIntake(FakeIntake):
    """Intake's ImportCases: holds its answer until `release` is set, then refuses lines whose
    name starts with 'bad' (debtor_siren), like intake reporting row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()
        self.imports: list[tuple[str, str, bytes]] = []

    def ImportCases(self, requests: Any, metadata: Any = (), timeout: float = 0) -> Any:
        caller = caller_var.get()
        assert caller is not None

        async def answer() -> AsyncIterator[Any]:
            received = [request async for request in requests]
            content = b"".join(r.content for r in received)
            self.imports.append((caller.tenant_id or "", received[0].idempotency_key, content))
            await self.release.wait()
            rows = content.decode().splitlines()[1:]
            yield intake_pb2.ImportCasesResponse(
                report=[
                    intake_pb2.RowReport(
                        line=n + 2,
                        accepted=row.startswith("ok"),
                        case_id=f"case-{n}" if row.startswith("ok") else "",
                        violations=[]
                        if row.startswith("ok")
                        else [
                            intake_pb2.FieldViolation(
                                field="debtor_siren", description="must be a valid SIREN or SIRET"
                            )
                        ],
                    )
                    for n, row in enumerate(rows)
                ]
            )
            accepted = sum(row.startswith("ok") for row in rows)
            yield intake_pb2.ImportCasesResponse(
                rows=len(rows), accepted=accepted, refused=len(rows) - accepted, done=True
            )

        return answer()


class TenantMatching(FakeMatching):
    """Quotes of the creditors' cases only: another creditor's quote is NOT_FOUND."""

    def _mine(self, case_id: str) -> None:
        caller = caller_var.get()
        tenant = caller.tenant_id if caller is not None else None
        if self.creditors.get(case_id) != tenant:
            raise status_for(NotFound("case: no such case"))

    async def GetQuote(self, request: Any) -> Any:
        self._mine(request.case_id)
        return await super().GetQuote(request)

    async def AcceptQuote(self, request: Any) -> Any:
        self._mine(request.case_id)
        return await super().AcceptQuote(request)

    async def DeclineQuote(self, request: Any) -> Any:
        self._mine(request.case_id)
        return await super().DeclineQuote(request)


@pytest.fixture
def intake() -> ImportingIntake:
    return ImportingIntake()


@pytest.fixture
def matching() -> TenantMatching:
    return TenantMatching()


@pytest.fixture
async def browser(
    store: FakeStore,
    passwords: Passwords,
    tokens: Tokens,
    intake: ImportingIntake,
    matching: TenantMatching,
) -> AsyncIterator[httpx.AsyncClient]:
    services = services_for(store, passwords, tokens, intake, secure=False)
    services = dataclasses.replace(services, quotes=QuoteClient(matching))
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def signed_in(
    browser: httpx.AsyncClient, store: FakeStore, email: str, siren: str = "732829320"
) -> str:
    """Signed up (with a SIREN unless empty) and logged in; the creditor's organisation id."""
    form = {"organisation_name": email, "email": email, "password": PASSWORD, "siren": siren}
    signed = await post_form(browser, "/signup", "/signup", form)
    assert signed.status_code == 303, signed.text
    logged = await post_form(browser, "/login", "/login", {"email": email, "password": PASSWORD})
    assert logged.status_code == 303, logged.text
    user = next(u for u in store.accounts.users.values() if u.email == email)
    return str(user.organisation_id)


async def upload(browser: httpx.AsyncClient, content: bytes, key: str = "import-1") -> Any:
    form = await browser.get("/cases/import")
    assert form.status_code == 200
    return await browser.post(
        "/cases/import",
        data={"csrf_token": csrf_of(form), "idempotency_key": key},
        files={"file": ("clients.csv", content, "text/csv")},
    )


async def finished(browser: httpx.AsyncClient, progress_url: str) -> httpx.Response:
    for _ in range(200):
        fragment = await browser.get(progress_url)
        assert fragment.status_code == 200
        if "every 1s" not in fragment.text:
            return fragment
        await asyncio.sleep(0.01)
    raise AssertionError("the import never finished")


async def test_an_import_shows_progress_then_each_refused_row_and_nothing_to_another_creditor(
    browser: httpx.AsyncClient, intake: ImportingIntake, store: FakeStore
) -> None:
    creditor = await signed_in(browser, store, "owner@acme.fr")
    started = await upload(browser, CSV)
    assert started.status_code == 303, started.text
    page_url = started.headers["location"]
    assert re.fullmatch(r"/cases/import/[0-9a-f-]{36}", page_url)

    # While intake works: a progress bar htmx refreshes, and a reload without JavaScript.
    for _ in range(200):
        if intake.imports:
            break
        await asyncio.sleep(0.01)
    waiting = await browser.get(page_url)
    assert '<progress id="import-bar" max="100" value="50">' in waiting.text
    assert "Vérification et enregistrement des lignes" in waiting.text
    assert f'hx-get="{page_url}/progress" hx-trigger="every 1s"' in waiting.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in waiting.text
    assert intake.imports == [(creditor, "import-1", CSV)]

    async with await another_browser(browser) as other:
        await signed_in(other, store, "b@other.fr")
        assert (await other.get(page_url)).status_code == 404
        assert (await other.get(f"{page_url}/progress")).status_code == 404

    intake.release.set()
    fragment = await finished(browser, f"{page_url}/progress")
    assert '<progress id="import-bar" max="100" value="100">' in fragment.text
    assert "<strong>2</strong> dossiers créés" in fragment.text
    assert "<strong>1</strong> lignes refusées" in fragment.text
    refused = re.findall(
        r"<tr><th scope=\"row\"[^>]*>(\d+)</th><td><code>(\w+)</code></td>"
        r"<td>([^<]*)</td></tr>",
        fragment.text,
    )
    assert refused == [("3", "debtor_siren", "must be a valid SIREN or SIRET")]
    done = await browser.get(page_url)
    assert "http-equiv" not in done.text
    assert "every 1s" not in done.text
    assert "debtor_siren" in done.text


async def test_an_import_is_refused_on_its_form_without_a_siren_or_a_file(
    browser: httpx.AsyncClient, intake: ImportingIntake, store: FakeStore
) -> None:
    await signed_in(browser, store, "owner@acme.fr", siren="")
    refused = await upload(browser, CSV)
    assert refused.status_code == 409
    assert "siren" in refused.text.lower()
    assert 'name="idempotency_key" value="import-1"' in refused.text
    assert intake.imports == []


async def test_an_empty_file_is_refused_beside_the_file_input(
    browser: httpx.AsyncClient, intake: ImportingIntake, store: FakeStore
) -> None:
    await signed_in(browser, store, "owner@acme.fr")
    refused = await upload(browser, b"  \n")
    assert refused.status_code == 422
    assert 'aria-invalid="true" aria-describedby="file-error"' in refused.text
    assert intake.imports == []


QUOTE = pb.QuoteReply(
    case_id="case-1",
    round=1,
    status="quoted",
    provider_id="provider-1",
    provider_name="Etude Lambert",
    provider_kind="commissaire",
    provider_cases_finished=12,
    provider_cases_recovered=9,
    provider_record=pb.ProviderRecord(
        segment="good-faith-difficulty",
        cases_finished=12,
        cases_recovered=9,
        recovery_rate="0.7500",
        amount_recovered_share="0.8125",
        average_days_to_recover="23.5",
        offers_received=15,
        offers_answered_in_time=14,
    ),
    fee=Percentage(basis_points=950),
    fee_base="collected",
    why="best expected net recovery among 3 offers",
)


async def test_the_case_page_shows_the_quote_with_the_record_and_accepts_it(
    browser: httpx.AsyncClient, matching: TenantMatching, store: FakeStore
) -> None:
    creditor = await signed_in(browser, store, "owner@acme.fr")
    created = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    case_url = created.headers["location"]
    matching.creditors["case-1"] = creditor
    matching.quote = QUOTE
    page = await browser.get(case_url)
    assert "Etude Lambert (commissaire de justice)" in page.text
    assert "9.5 % des sommes recouvrées" in page.text
    assert "<td>9 (75 %)</td>" in page.text
    assert "<td>81 %</td>" in page.text  # share of the amount recovered
    assert "<td>14 / 15</td>" in page.text
    assert "Accepter le devis" in page.text

    forged = await browser.post(f"{case_url}/quote/accept", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert matching.called("AcceptQuote") == []
    accepted = await browser.post(f"{case_url}/quote/accept", data={"csrf_token": csrf_of(page)})
    assert (accepted.status_code, accepted.headers["location"]) == (303, f"{case_url}#quote")
    [(caller, request)] = matching.called("AcceptQuote")
    assert caller is not None
    assert (caller.kind, caller.tenant_id, request.case_id) == ("creditor", creditor, "case-1")
    declined = await browser.post(f"{case_url}/quote/decline", data={"csrf_token": csrf_of(page)})
    assert declined.status_code == 303
    assert len(matching.called("DeclineQuote")) == 1


async def test_another_creditor_gets_404_on_the_quote_and_cannot_answer_it(
    browser: httpx.AsyncClient, matching: TenantMatching, store: FakeStore
) -> None:
    creditor = await signed_in(browser, store, "a@acme.fr")
    created = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    case_url = created.headers["location"]
    matching.creditors["case-1"] = creditor
    matching.quote = QUOTE
    assert (await browser.get(f"{case_url}/quote")).status_code == 200
    async with await another_browser(browser) as other:
        await signed_in(other, store, "b@other.fr")
        page = await other.get("/cases/import")
        seen = await other.get(f"{case_url}/quote")
        assert seen.status_code == 404
        assert "Etude Lambert" not in seen.text
        for answer in ("accept", "decline"):
            tried = await other.post(
                f"{case_url}/quote/{answer}", data={"csrf_token": csrf_of(page)}
            )
            assert tried.status_code == 404
    assert matching.called("AcceptQuote") == []
    assert matching.called("DeclineQuote") == []
