"""The web pages over fakes: sessions, CSRF, the Content-Security-Policy, French and English,
form errors beside their field, and a creditor's cases through the same clients as the API."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
from sqlalchemy.exc import DBAPIError

from gateway.adapters.intake import IntakeClient
from gateway.adapters.scoring import ScoreClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.vault import VaultClient
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from gateway.entrypoints.web.dashboard_page import age_buckets, outcomes, recovered_by_month
from gateway.entrypoints.web.rendering import TEMPLATES, read_catalogue
from gateway.schemas.case_views import CaseView
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from recouvra.scoring.v1 import scoring_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidField, NotFound
from services.gateway.tests.unit.gateway_fakes import (
    FakeAccounts,
    FakeStore,
    FakeVault,
    rpc_error,
    status_for,
)

PASSWORD = "correct horse battery staple"
ROOT = Path(__file__).resolve().parents[4]


class FakeIntake:
    """Cases owned by the creditor who submitted them; another creditor's id is NOT_FOUND."""

    def __init__(self) -> None:
        self.cases: dict[str, intake_pb2.Case] = {}
        self.submitted: list[tuple[str, Any]] = []
        self.refusal: Any = None
        self.scoring: Any = None

    def _tenant(self) -> str:
        caller = caller_var.get()
        assert caller is not None
        assert caller.kind == "creditor"
        return caller.tenant_id or ""

    def _own(self, case_id: str) -> intake_pb2.Case:
        case = self.cases.get(case_id)
        if case is None or case.creditor_id != self._tenant():
            raise status_for(NotFound("case: no such case"))
        return case

    async def SubmitCase(self, request: Any) -> Any:
        if self.refusal is not None:
            raise status_for(self.refusal)
        case_id = f"case-{len(self.cases) + 1}"
        self.submitted.append((self._tenant(), request))
        invoice = request.invoices[0]
        self.cases[case_id] = intake_pb2.Case(
            case_id=case_id,
            creditor_id=self._tenant(),
            status="submitted",
            debtor=request.debtor,
            due_date=invoice.due_date,
            amount=Money(
                currency=invoice.currency, minor_units=int(float(invoice.amount_due) * 100)
            ),
        )
        return intake_pb2.SubmitCaseResponse(case_id=case_id)

    async def ListCases(self, request: Any) -> Any:
        tenant = self._tenant()
        return intake_pb2.ListCasesResponse(
            cases=[c for c in self.cases.values() if c.creditor_id == tenant]
        )

    async def GetCase(self, request: Any) -> Any:
        return self._own(request.case_id)

    async def GetCaseTimeline(self, request: Any) -> Any:
        self._own(request.case_id)
        return intake_pb2.CaseTimeline(case_id=request.case_id)


class FakeScoring:
    """Scoring's GetScore: the owning creditor's scored cases; NOT_FOUND before a score."""

    def __init__(self, intake: FakeIntake) -> None:
        self.intake = intake
        self.scored: set[str] = set()
        self.down = False

    async def GetScore(self, request: Any) -> Any:
        self.intake._own(request.case_id)
        if self.down:
            raise rpc_error(grpc.StatusCode.UNAVAILABLE, "connection refused")
        if request.case_id not in self.scored:
            raise status_for(NotFound("case: no score"))
        return scoring_pb2.Score(
            case_id=request.case_id,
            trustscore=72,
            recovery_probability="0.81",
            expected_days_to_recover=34,
            reasons=[scoring_pb2.Reason(code="debt-young", text="the debt is recent")],
        )


@pytest.fixture
def intake() -> FakeIntake:
    return FakeIntake()


def services_for(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: FakeIntake, secure: bool
) -> GatewayServices:
    scoring = intake.scoring = FakeScoring(intake)
    return GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(intake),
        vault=VaultClient(FakeVault()),
        scores=ScoreClient(scoring),
        secure_cookies=secure,
    )


@pytest.fixture
async def browser(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: FakeIntake
) -> AsyncIterator[httpx.AsyncClient]:
    """A client keeping cookies, like a browser, on the development settings (no Secure)."""
    app = create_app(services_for(store, passwords, tokens, intake, secure=False), {})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def another_browser(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=browser._transport, base_url="http://gateway")


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def post_form(
    browser: httpx.AsyncClient, form_page: str, action: str, data: dict[str, str]
) -> httpx.Response:
    page = await browser.get(form_page)
    return await browser.post(action, data={**data, "csrf_token": csrf_of(page)})


async def signed_in(browser: httpx.AsyncClient, email: str, siren: str = "732829320") -> None:
    signed = await post_form(
        browser,
        "/signup",
        "/signup",
        {"organisation_name": email, "email": email, "password": PASSWORD, "siren": siren},
    )
    assert signed.status_code == 303, signed.text
    logged = await post_form(browser, "/login", "/login", {"email": email, "password": PASSWORD})
    assert logged.status_code == 303, logged.text


def field_error(page: str, field_id: str) -> str:
    """The error shown beside the input `field_id`, or ''."""
    match = re.search(
        rf'<input id="{re.escape(field_id)}"[^>]*aria-invalid="true"[^>]*>.*?'
        rf'<strong class="error" id="{re.escape(field_id)}-error">([^<]*)</strong>',
        page,
        re.S,
    )
    return match.group(1) if match else ""


async def test_every_page_carries_a_csp_without_unsafe_inline_and_no_inline_code(
    browser: httpx.AsyncClient,
) -> None:
    for path in ("/login", "/signup"):
        page = await browser.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "an inline script"
        assert "<style" not in page.text
        assert " style=" not in page.text
        assert 'integrity="sha384-' in page.text


async def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    await browser.get("/signup")  # the browser has its CSRF cookie, not a token
    form = {"organisation_name": "Acme", "email": "a@acme.fr", "password": PASSWORD}
    refused = await browser.post("/signup", data=form)
    forged = await browser.post("/signup", data={**form, "csrf_token": "0" * 64})
    assert (refused.status_code, forged.status_code) == (403, 403)
    assert "csrf_token" in refused.text
    assert store.accounts.users == {}


async def test_a_token_made_for_another_browser_is_refused(browser: httpx.AsyncClient) -> None:
    stolen = csrf_of(await browser.get("/signup"))
    async with await another_browser(browser) as attacker:
        await attacker.get("/login")
        refused = await attacker.post(
            "/login", data={"email": "a@acme.fr", "password": PASSWORD, "csrf_token": stolen}
        )
    assert refused.status_code == 403


async def test_french_by_default_english_when_asked_or_chosen(browser: httpx.AsyncClient) -> None:
    french = await browser.get("/login")
    assert '<html lang="fr">' in french.text
    assert "Mot de passe" in french.text
    english = await browser.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"})
    assert '<html lang="en">' in english.text
    assert "Password" in english.text
    switched = await browser.post(
        "/language", data={"language": "en", "next": "/signup", "csrf_token": csrf_of(french)}
    )
    assert (switched.status_code, switched.headers["location"]) == (303, "/signup")
    assert "Open a creditor account" in (await browser.get("/signup")).text


def test_every_text_of_the_templates_has_its_french_translation() -> None:
    french = read_catalogue("fr")
    texts = {
        text
        for template in TEMPLATES.glob("*.html")
        for text in re.findall(r"_\('([^']*)'\)", template.read_text(encoding="utf-8"))
    }
    assert texts
    assert sorted(texts - set(french)) == []


async def test_form_errors_are_shown_next_to_their_field_with_the_values_kept(
    browser: httpx.AsyncClient, store: FakeStore
) -> None:
    page = await post_form(
        browser,
        "/signup",
        "/signup",
        {"organisation_name": "Acme", "siren": "123456789", "email": "nope", "password": "short"},
    )
    assert page.status_code == 422
    assert "adresse e-mail valide" in field_error(page.text, "email")  # in French, like the page
    assert "12" in field_error(page.text, "password")
    assert field_error(page.text, "organisation_name") == ""
    assert 'value="Acme"' in page.text
    assert "short" not in page.text
    siren = await post_form(
        browser,
        "/signup",
        "/signup",
        {
            "organisation_name": "Acme",
            "siren": "123456789",
            "email": "a@acme.fr",
            "password": PASSWORD,
        },
    )
    assert siren.status_code == 422
    assert field_error(siren.text, "siren")
    assert field_error(siren.text, "email") == ""
    assert PASSWORD not in siren.text
    assert store.accounts.users == {}


async def test_a_session_cookie_is_httponly_lax_and_secure_outside_development(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: FakeIntake
) -> None:
    app = create_app(services_for(store, passwords, tokens, intake, secure=True), {})
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://gateway") as http:
        await signed_in(http, "owner@acme.fr")
        logged = await post_form(
            http, "/login", "/login", {"email": "owner@acme.fr", "password": PASSWORD}
        )
    cookie = next(
        v for k, v in logged.headers.multi_items() if k == "set-cookie" and "recouvra_session" in v
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" in cookie


async def test_the_api_refuses_a_web_session_as_a_bearer(browser: httpx.AsyncClient) -> None:
    await signed_in(browser, "owner@acme.fr")
    session = browser.cookies["recouvra_session"]
    me = await browser.get("/v1/me", headers={"Authorization": f"Bearer {session}"})
    assert me.status_code == 401


async def test_pages_need_a_session_and_log_out_ends_it(browser: httpx.AsyncClient) -> None:
    away = await browser.get("/cases?status=submitted")
    assert away.status_code == 303
    assert away.headers["location"] == "/login?next=%2Fcases%3Fstatus%3Dsubmitted"
    await signed_in(browser, "owner@acme.fr")
    assert (await browser.get("/cases")).status_code == 200
    page = await browser.get("/cases")
    await browser.post("/logout", data={"csrf_token": csrf_of(page)})
    assert (await browser.get("/cases")).status_code == 303


async def test_a_wrong_password_shows_the_form_again_with_the_reason(
    browser: httpx.AsyncClient,
) -> None:
    await signed_in(browser, "owner@acme.fr")
    wrong = await post_form(
        browser, "/login", "/login", {"email": "owner@acme.fr", "password": "not the password"}
    )
    assert wrong.status_code == 401
    assert "e-mail ou mot de passe incorrect" in wrong.text
    assert 'value="owner@acme.fr"' in wrong.text


CASE_FORM = {
    "debtor.kind": "company",
    "debtor.name": "Transports Lefèvre SAS",
    "debtor.siren_or_siret": "552100554",
    "invoices[0].invoice_number": "F-1",
    "invoices[0].issue_date": "2026-01-05",
    "invoices[0].due_date": "2026-02-04",
    "invoices[0].amount_due.amount": "1250.00",
    "currency": "EUR",
    "idempotency_key": "form-key-1",
}


async def test_a_case_submitted_by_form_reaches_intake_as_the_creditor_and_shows(
    browser: httpx.AsyncClient, intake: FakeIntake, store: FakeStore
) -> None:
    await signed_in(browser, "owner@acme.fr")
    created = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    assert created.status_code == 303
    assert created.headers["location"] == "/cases/case-1"
    tenant, request = intake.submitted[-1]
    creditor = next(iter(store.accounts.organisations.values()))
    assert tenant == creditor.organisation_id
    assert request.idempotency_key == "form-key-1"
    assert (request.invoices[0].amount_due, request.invoices[0].currency) == ("1250.00", "EUR")
    assert len(request.invoices) == 1  # the blank rows were not sent
    page = await browser.get("/cases/case-1")
    assert page.status_code == 200
    assert "Transports Lefèvre SAS" in page.text
    assert "Pas encore noté" in page.text
    intake.scoring.scored.add("case-1")
    scored = await browser.get("/cases/case-1")
    assert "<strong>72</strong>/100" in scored.text
    assert "81 %" in scored.text
    assert "the debt is recent" in scored.text
    listed = await browser.get("/cases")
    assert "/cases/case-1" in listed.text
    assert "1\u202f250,00\u00a0€" in listed.text  # as French readers write it
    intake.scoring.down = True
    without_score = await browser.get("/cases/case-1")
    assert without_score.status_code == 200  # the case reads on while scoring is down
    assert "Transports Lefèvre SAS" in without_score.text
    assert "<strong>72</strong>/100" not in without_score.text


async def test_a_creditor_without_its_siren_is_refused_on_the_form_as_by_the_api(
    browser: httpx.AsyncClient, intake: FakeIntake
) -> None:
    await signed_in(browser, "owner@acme.fr", siren="")
    refused = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    assert refused.status_code == 409
    assert "SIREN" in refused.text
    assert "Transports Lefèvre SAS" in refused.text  # what was typed is kept
    assert intake.submitted == []


async def test_case_form_errors_land_beside_the_invoice_and_debtor_inputs(
    browser: httpx.AsyncClient, intake: FakeIntake
) -> None:
    await signed_in(browser, "owner@acme.fr")
    bad = {**CASE_FORM, "invoices[0].amount_due.amount": "12.345", "debtor.siren_or_siret": "1"}
    page = await post_form(browser, "/cases/new", "/cases/new", bad)
    assert page.status_code == 422
    assert field_error(page.text, "invoices-0-amount_due-amount")
    assert "SIREN" in field_error(page.text, "debtor-siren_or_siret")
    assert intake.submitted == []
    intake.refusal = InvalidField("debtor.vat_number", "must match the SIREN")
    refused = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    assert refused.status_code == 422
    assert "must match the SIREN" in refused.text


async def test_another_creditors_case_and_document_are_not_found(
    browser: httpx.AsyncClient,
) -> None:
    await signed_in(browser, "a@acme.fr")
    created = await post_form(browser, "/cases/new", "/cases/new", CASE_FORM)
    case_page = created.headers["location"]
    async with await another_browser(browser) as other:
        await signed_in(other, "b@other.fr", siren="552100554")
        assert (await other.get(case_page)).status_code == 404
        assert (await other.get(f"{case_page}/documents/doc-1")).status_code == 404
        assert "Transports" not in (await other.get("/cases")).text


async def test_static_files_are_cached_for_a_year_and_match_their_pinned_hash(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get("/login")
    url = re.search(r'src="(/static/vendor/htmx\.min\.js\?v=[0-9a-f]+)"', page.text)
    assert url
    script = await browser.get(url.group(1))
    assert script.status_code == 200
    assert "immutable" in script.headers["cache-control"]


def test_vendored_npm_files_match_their_pinned_hashes() -> None:
    checked = subprocess.run(
        [sys.executable, str(ROOT / "deploy/local/npm_assets.py"), "check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_outstanding_amounts_fall_in_their_age_bucket() -> None:
    def case(due: str, amount: str, status: str = "assigned") -> CaseView:
        return CaseView.model_validate(
            {
                "case_id": due,
                "creditor_id": "c",
                "status": status,
                "debtor": {"kind": "company", "name": "x"},
                "invoices": [],
                "amount": {"amount": amount, "currency": "EUR"},
                "due_date": due,
                "disputed": False,
                "notes": "",
                "submitted_at": "",
                "source": "api",
                "legal_amounts": None,
                "payments": [],
                "withdrawn_reason": "",
            }
        )

    bars = age_buckets(
        [
            case("2026-11-20", "100.10"),
            case("2026-10-01", "50.00"),
            case("2026-09-30", "25.00"),
            case("2025-01-01", "1000.00"),
            case("2025-01-01", "999.00", status="paid"),
        ],
        today=date(2026, 12, 1),
    )
    by_label = {bar.label: (str(bar.amount), bar.cases) for bar in bars}
    assert by_label["0-30"] == ("100.10", 1)
    assert by_label["61-90"] == ("75.00", 2)
    assert by_label["> 180"] == ("1000.00", 1)
    assert by_label["91-180"] == ("0.00", 0)
    assert max(bars, key=lambda b: b.width).label == "> 180"


def test_recovered_money_falls_in_its_month_and_outcomes_count_finished_cases() -> None:
    def case(status: str, submitted: str, *payments: tuple[str, str, bool]) -> CaseView:
        return CaseView.model_validate(
            {
                "case_id": f"{status}-{submitted}",
                "creditor_id": "c",
                "status": status,
                "debtor": {"kind": "company", "name": "x"},
                "invoices": [],
                "amount": {"amount": "100.00", "currency": "EUR"},
                "due_date": "2026-01-01",
                "disputed": False,
                "notes": "",
                "submitted_at": f"{submitted}T09:00:00Z",
                "source": "api",
                "legal_amounts": None,
                "payments": [
                    {
                        "amount": {"amount": amount, "currency": "EUR"},
                        "paid_on": paid_on,
                        "settles_in_full": full,
                        "declared_at": None,
                        "source": "bank",
                    }
                    for paid_on, amount, full in payments
                ],
                "withdrawn_reason": "",
            }
        )

    cases = [
        case("paid", "2026-10-01", ("2026-10-11", "40.10", False), ("2026-11-30", "59.90", True)),
        case("paid_directly", "2026-11-01", ("2026-11-05", "100.00", True)),
        case("exhausted", "2026-06-01"),
        case("assigned", "2026-11-15", ("2026-12-02", "10.00", False)),
        case("paid", "2025-01-01", ("2025-02-01", "500.00", True)),  # over a year ago
    ]
    months = recovered_by_month(cases, today=date(2026, 12, 3))
    assert [bar.label for bar in months][:1] + [bar.label for bar in months][-1:] == [
        "2026-01",
        "2026-12",
    ]
    assert len(months) == 12
    by_month = {bar.label: (str(bar.amount), bar.cases) for bar in months}
    assert by_month["2026-10"] == ("40.10", 1)
    assert by_month["2026-11"] == ("159.90", 2)
    assert by_month["2026-12"] == ("10.00", 1)
    assert sum(bar.cases for bar in months) == 4  # the 2025 payment is not shown
    ended = outcomes(cases)
    # Four finished (three paid, one exhausted); the assigned one is still worked.
    assert (ended.finished, ended.recovered, ended.rate_percent) == (4, 3, 75)
    assert ended.median_days == 31  # 4, 31 and 60 days: the middle one


async def test_a_database_reset_while_logging_in_shows_a_page_to_try_again(
    browser: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await signed_in(browser, "reset@example.fr")

    async def reset(self: FakeAccounts, email: str) -> None:
        raise DBAPIError(
            "SELECT 1", {}, ConnectionResetError("reset by peer"), connection_invalidated=True
        )

    monkeypatch.setattr(FakeAccounts, "user_by_email", reset)
    page = await post_form(
        browser, "/login", "/login", {"email": "reset@example.fr", "password": PASSWORD}
    )
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert "SELECT" not in page.text
