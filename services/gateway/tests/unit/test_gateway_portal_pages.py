"""The debtor portal's pages over fakes of messaging's PortalService and settlement's
PaymentLinks: nothing personal before the second factor, the lock after 5 wrong answers, a
session that opens its one case only, each action's form (errors beside the field), and the
pay-by-bank button asking a link as the case's debtor for an amount read from the claim."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.adapters.portal import PortalClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.vault import VaultClient
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from gateway.entrypoints.web.portal_view import money_text, typed_minor
from recouvra.common.v1.money_pb2 import Money
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra.settlement.v1 import settlement_pb2
from recouvra.vault.v1 import vault_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidField, InvalidRequest, PermissionDenied, Violation
from services.gateway.tests.unit.gateway_fakes import FakeStore, FakeVault, status_for

TOKEN_A = "v1.case-a.4102444800.sigA"
TOKEN_B = "v1.case-b.4102444800.sigB"
CASES = {
    "case-a": {"debtor": "Transports Lefèvre SAS", "invoice": "F-2026-0042", "postal": "69002"},
    "case-b": {"debtor": "Boulangerie Roux", "invoice": "B-77", "postal": "13001"},
}


def eur(minor: int) -> Money:
    return Money(currency="EUR", minor_units=minor)


class FakePortalService:
    """Links name a case; 5 wrong answers lock a link; sessions name one case; the policy
    agrees up to 6 monthly instalments at once."""

    def __init__(self) -> None:
        self.wrong: dict[str, int] = {}
        self.plans: dict[str, list[pb.InstalmentPlan]] = {}
        self.disputes: dict[str, list[pb.Dispute]] = {}
        self.refused: dict[str, list[str]] = {}
        self.declarations: dict[str, list[pb.PaymentDeclaration]] = {}

    @staticmethod
    def _gateway() -> None:
        caller = caller_var.get()
        assert caller is not None
        assert caller.kind == "service"
        assert caller.subject == "gateway"

    @staticmethod
    def _case(session: str) -> str:
        if not session.startswith("session:"):
            raise status_for(PermissionDenied("session: not a portal session"))
        return session.removeprefix("session:")

    async def OpenPortal(self, request: pb.OpenPortalRequest) -> pb.PortalSession:
        self._gateway()
        case_id = {TOKEN_A: "case-a", TOKEN_B: "case-b"}.get(request.token)
        if case_id is None:
            raise status_for(PermissionDenied("token: signature does not match"))
        self.wrong[request.token] = self.wrong.get(request.token, 0)
        if self.wrong[request.token] >= 5:
            raise status_for(PermissionDenied("token: locked after 5 wrong answers"))
        case = CASES[case_id]
        if request.second_factor not in (case["invoice"], case["postal"]):
            self.wrong[request.token] += 1
            left = 5 - self.wrong[request.token]
            raise status_for(
                PermissionDenied(f"second_factor: not an invoice number ({left} attempts left)")
            )
        return pb.PortalSession(session=f"session:{case_id}", expires_at="2026-12-03T12:30:00Z")

    async def GetClaim(self, request: pb.GetClaimRequest) -> pb.Claim:
        self._gateway()
        case_id = self._case(request.session)
        case = CASES[case_id]
        return pb.Claim(
            case_id=case_id,
            creditor_id=f"cred-{case_id}",
            debtor_name=case["debtor"],
            invoices=[pb.ClaimInvoice(number=case["invoice"], amount_due=eur(125000))],
            as_of="2026-12-03",
            principal=eur(125000),
            interest=eur(3210),
            other_sums=eur(4000),
            total=eur(132210),
            how_to_pay=pb.PaymentInstructions(
                beneficiary="Recouvra compte de cantonnement",
                iban_formatted="FR76 3000 6000 0112 3456 7890 189",
                reference_formatted="RF18 5390 0754 7034",
                amount=eur(132210),
                epc_qr_payload="BCD\n002\n1\nSCT\n\nRecouvra\nFR7630006000011234567890189\nEUR1322.10",
            ),
            plans=self.plans.get(case_id, []),
            disputes=self.disputes.get(case_id, []),
            declarations=self.declarations.get(case_id, []),
            refused_channels=self.refused.get(case_id, []),
        )

    async def ProposePlan(self, request: pb.ProposePlanRequest) -> pb.InstalmentPlan:
        case_id = self._case(request.session)
        if not 2 <= request.count <= 36:
            raise status_for(InvalidField("count", "2 to 36 instalments"))
        each = 132210 // request.count
        instalments = [
            pb.Instalment(number=n + 1, due_on=f"2027-0{n + 1}-05", amount=eur(each))
            for n in range(request.count)
        ]
        instalments[-1].amount.minor_units += 132210 - each * request.count
        plan = pb.InstalmentPlan(
            plan_id="plan-1",
            case_id=case_id,
            state="agreed" if request.count <= 6 else "pending",
            total=eur(132210),
            instalments=instalments,
            paid=eur(0),
        )
        self.plans.setdefault(case_id, []).append(plan)
        return plan

    async def OpenDispute(self, request: pb.OpenDisputeRequest) -> pb.Dispute:
        case_id = self._case(request.session)
        if request.reason == "other" and not request.text:
            raise status_for(InvalidRequest([Violation("text", "required when reason is other")]))
        dispute = pb.Dispute(
            dispute_id="d-1",
            reason=request.reason,
            text=request.text,
            evidence_document_ids=request.evidence_document_ids,
        )
        self.disputes.setdefault(case_id, []).append(dispute)
        return dispute

    async def DeclarePayment(self, request: pb.DeclarePaymentRequest) -> pb.PaymentDeclaration:
        case_id = self._case(request.session)
        declaration = pb.PaymentDeclaration(
            declaration_id=f"decl-{len(self.declarations.get(case_id, [])) + 1}",
            amount=request.amount,
            paid_on=request.paid_on,
            proof_document_id=request.proof_document_id,
            method=request.method,
            reference=request.reference,
        )
        self.declarations.setdefault(case_id, []).append(declaration)
        return declaration

    async def SetContactPreferences(
        self, request: pb.SetContactPreferencesRequest
    ) -> pb.ContactPreferences:
        case_id = self._case(request.session)
        self.refused[case_id] = list(request.refused_channels)
        return pb.ContactPreferences(refused_channels=request.refused_channels)


class FakePaymentLinks:
    """Settlement's rule: a debtor gets links for its own case only."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int]] = []

    async def CreatePaymentLink(
        self, request: settlement_pb2.CreatePaymentLinkRequest
    ) -> settlement_pb2.PaymentLink:
        caller = caller_var.get()
        assert caller is not None
        assert caller.kind == "debtor"
        assert caller.subject == request.case_id
        self.asked.append((request.case_id, request.amount.minor_units))
        return settlement_pb2.PaymentLink(
            url=f"https://bank.example/pay/{request.case_id}/{request.amount.minor_units}"
        )


@pytest.fixture
def links() -> FakePaymentLinks:
    return FakePaymentLinks()


def shared(vault: FakeVault, case_id: str, name: str, *, shareable: bool = True) -> str:
    document = vault_pb2.Document(
        document_id=str(uuid.uuid4()),
        case_id=case_id,
        tenant_id=f"cred-{case_id}",
        content_type="application/pdf",
        size_bytes=9,
        shareable=shareable,
        filename=name,
    )
    vault.documents[document.document_id] = document
    vault.contents[document.document_id] = b"%PDF-1.7\n"
    return document.document_id


@pytest.fixture
def vault() -> FakeVault:
    return FakeVault()


@pytest.fixture
def messaging() -> FakePortalService:
    return FakePortalService()


@pytest.fixture
async def browser(
    store: FakeStore,
    passwords: Passwords,
    tokens: Tokens,
    links: FakePaymentLinks,
    vault: FakeVault,
    messaging: FakePortalService,
) -> AsyncIterator[httpx.AsyncClient]:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        portal=PortalClient(messaging, links),
        vault=VaultClient(vault),
        secure_cookies=False,
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


def csrf_of(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert match, page.text
    return match.group(1)


async def answer(browser: httpx.AsyncClient, token: str, second_factor: str) -> httpx.Response:
    page = await browser.get(f"/portal/{token}")
    return await browser.post(
        f"/portal/{token}", data={"second_factor": second_factor, "csrf_token": csrf_of(page)}
    )


async def post(browser: httpx.AsyncClient, action: str, data: dict[str, str]) -> httpx.Response:
    page = await browser.get("/portal/claim")
    return await browser.post(action, data={**data, "csrf_token": csrf_of(page)})


async def test_the_link_asks_the_second_factor_before_anything_personal(
    browser: httpx.AsyncClient,
) -> None:
    page = await browser.get(f"/portal/{TOKEN_A}")
    assert page.status_code == 200
    assert 'id="second_factor"' in page.text
    assert "Lefèvre" not in page.text
    assert "F-2026-0042" not in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    # Without a session the claim is not shown either.
    claim = await browser.get("/portal/claim")
    assert claim.status_code == 401
    assert "Lefèvre" not in claim.text


async def test_a_wrong_answer_says_how_many_attempts_are_left_and_five_lock_the_link(
    browser: httpx.AsyncClient,
) -> None:
    wrong = await answer(browser, TOKEN_A, "75001")
    assert wrong.status_code == 403
    assert "Essais restants : 4" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    for _ in range(4):
        await answer(browser, TOKEN_A, "75001")
    locked = await answer(browser, TOKEN_A, "F-2026-0042")  # right, but too late
    assert locked.status_code == 403
    assert "Ce lien est bloqué" in locked.text
    assert "recouvra_portal" not in locked.headers.get("set-cookie", "")
    assert "Lefèvre" not in locked.text


async def test_the_right_answer_opens_the_claim_itemised_with_how_to_pay(
    browser: httpx.AsyncClient,
) -> None:
    opened = await answer(browser, TOKEN_A, "F-2026-0042")
    assert opened.status_code == 303
    cookie = opened.headers["set-cookie"]
    assert "recouvra_portal=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/portal" in cookie
    claim = await browser.get("/portal/claim")
    assert claim.status_code == 200
    for text in ("F-2026-0042", "1\u202f322,10\u00a0EUR", "32,10\u00a0EUR", "RF18 5390 0754 7034"):
        assert text in claim.text
    assert '<svg role="img" class="qr"' in claim.text
    assert 'href="/portal/pay?for=total"' in claim.text


async def test_a_session_for_one_case_opens_nothing_of_another(
    browser: httpx.AsyncClient,
) -> None:
    await answer(browser, TOKEN_A, "F-2026-0042")
    # B's link asks its own question, and A's answer does not open B.
    other = await browser.get(f"/portal/{TOKEN_B}")
    assert "Boulangerie" not in other.text
    assert "Lefèvre" not in other.text
    refused = await answer(browser, TOKEN_B, "F-2026-0042")
    assert refused.status_code == 403
    assert "Boulangerie" not in refused.text
    claim = await browser.get("/portal/claim")
    assert "Lefèvre" in claim.text
    assert "Boulangerie" not in claim.text


async def test_a_three_month_plan_inside_the_policy_is_agreed_and_its_schedule_shown(
    browser: httpx.AsyncClient, links: FakePaymentLinks
) -> None:
    await answer(browser, TOKEN_A, "69002")
    refused = await post(browser, "/portal/plan", {"plan_count": "1", "plan_period": "monthly"})
    assert refused.status_code == 422
    assert 'id="plan_count-error">2 to 36 instalments' in refused.text
    agreed = await post(
        browser,
        "/portal/plan",
        {"plan_count": "3", "plan_first_due_on": "2027-01-05", "plan_period": "monthly"},
    )
    assert agreed.status_code == 303
    claim = await browser.get(agreed.headers["location"])
    assert "accepté" in claim.text
    assert claim.text.count('<td class="money">440,70\u00a0EUR</td>') == 3  # 1,322.10 / 3
    assert 'href="/portal/pay?for=instalment-1"' in claim.text
    bank = await browser.get("/portal/pay?for=instalment-1")
    assert bank.status_code == 303
    assert bank.headers["location"] == "https://bank.example/pay/case-a/44070"
    whole = await browser.get("/portal/pay?for=total")
    assert whole.headers["location"].endswith("/case-a/132210")
    # An amount the claim does not offer is refused: the browser never sets the amount.
    forged = await browser.get("/portal/pay?for=instalment-9")
    assert forged.status_code == 422
    assert links.asked == [("case-a", 44070), ("case-a", 132210)]


async def test_a_dispute_needs_words_for_another_reason_and_preferences_are_kept(
    browser: httpx.AsyncClient,
) -> None:
    await answer(browser, TOKEN_A, "69002")
    refused = await post(browser, "/portal/dispute", {"dispute_reason": "other"})
    assert refused.status_code == 422
    assert 'id="dispute_text-error"' in refused.text
    sent = await post(
        browser, "/portal/dispute", {"dispute_reason": "defective", "dispute_text": "cassé"}
    )
    assert sent.status_code == 303
    claim = await browser.get("/portal/claim")
    assert "en cours d&#39;examen" in claim.text or "en cours d'examen" in claim.text
    saved = await post(browser, "/portal/preferences", {"refuse_email": "on"})
    assert saved.status_code == 303
    claim = await browser.get("/portal/claim")
    assert re.search(r'id="refuse_email" name="refuse_email" checked', claim.text)


async def test_a_form_without_its_csrf_token_is_refused(browser: httpx.AsyncClient) -> None:
    await answer(browser, TOKEN_A, "69002")
    forged = await browser.post("/portal/plan", data={"plan_count": "3"})
    assert forged.status_code == 403


def test_amounts_read_and_written_the_french_way() -> None:
    assert typed_minor("amount", "1 250,5", "EUR") == 125050
    assert typed_minor("amount", "120.50", "EUR") == 12050
    with pytest.raises(InvalidField):
        typed_minor("amount", "12,345", "EUR")
    with pytest.raises(InvalidField):
        typed_minor("amount", "0", "EUR")
    assert money_text(eur(125050), "fr") == "1\u202f250,50\u00a0EUR"
    assert money_text(eur(125050), "en") == "1,250.50\u00a0EUR"


async def test_the_debtor_sees_and_downloads_only_the_documents_shared_on_its_case(
    browser: httpx.AsyncClient, vault: FakeVault
) -> None:
    letter = shared(vault, "case-a", "mise-en-demeure.pdf")
    shared(vault, "case-a", "notes-internes.pdf", shareable=False)
    other = shared(vault, "case-b", "facture-roux.pdf")
    await answer(browser, TOKEN_A, "69002")
    claim = await browser.get("/portal/claim")
    assert "mise-en-demeure.pdf" in claim.text
    assert "notes-internes.pdf" not in claim.text
    assert "facture-roux.pdf" not in claim.text
    downloaded = await browser.get(f"/portal/documents/{letter}")
    assert downloaded.status_code == 200
    assert downloaded.content == b"%PDF-1.7\n"
    foreign = await browser.get(f"/portal/documents/{other}")
    assert foreign.status_code == 404
    assert foreign.content != b"%PDF-1.7\n"


class FakeDebtorActions:
    """Messaging's DebtorActionService: the case's creditor reads the plan; others NOT_FOUND."""

    def __init__(self, intake: Any) -> None:
        self.intake = intake

    async def ListDebtorActions(self, request: pb.ListDebtorActionsRequest) -> pb.DebtorActions:
        self.intake._own(request.case_id)  # NOT_FOUND for another creditor's case
        return pb.DebtorActions(
            plans=[
                pb.InstalmentPlan(
                    plan_id="plan-1",
                    state="agreed",
                    decided_by="policy",
                    instalments=[
                        pb.Instalment(number=n, due_on=f"2027-0{n}-05", amount=eur(44070))
                        for n in (1, 2, 3)
                    ],
                )
            ]
        )


async def test_the_creditor_reads_the_agreed_plan_on_its_case_page_and_nobody_else_does(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    from services.gateway.tests.unit import test_gateway_web_pages as web

    intake = web.FakeIntake()
    services = web.services_for(store, passwords, tokens, intake, secure=False)
    services.portal = PortalClient(FakePortalService(), None, FakeDebtorActions(intake))
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as alice:
        await web.signed_in(alice, "owner@acme.fr")
        created = await web.post_form(alice, "/cases/new", "/cases/new", web.CASE_FORM)
        page = await alice.get(created.headers["location"])
        assert page.status_code == 200
        assert 'id="debtor-actions"' in page.text
        assert "accepté (policy)" in page.text
        assert page.text.count("440,70\u00a0€") == 3
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as bob:
        await web.signed_in(bob, "bob@martin.fr")
        foreign = await bob.get(created.headers["location"])
        assert foreign.status_code == 404
        assert "440.70" not in foreign.text


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def post_with_files(
    browser: httpx.AsyncClient,
    action: str,
    data: dict[str, str],
    files: list[tuple[str, tuple[str, bytes, str]]],
) -> httpx.Response:
    page = await browser.get("/portal/claim")
    key = re.search(r'name="proof_key" value="([0-9a-f-]+)"', page.text)
    assert key, page.text
    form = {**data, "csrf_token": csrf_of(page), "proof_key": key.group(1)}
    return await browser.post(action, data=form, files=files)


async def test_a_dispute_with_proof_stores_it_in_the_vault_as_the_cases_evidence(
    browser: httpx.AsyncClient, vault: FakeVault, messaging: FakePortalService
) -> None:
    await answer(browser, TOKEN_A, "69002")
    sent = await post_with_files(
        browser,
        "/portal/dispute",
        {"dispute_reason": "not-delivered", "dispute_text": "jamais reçu"},
        [
            ("dispute_proof", ("bon-de-livraison.pdf", PDF, "application/pdf")),
            ("dispute_proof", ("photo.png", PNG, "image/png")),
        ],
    )
    assert sent.status_code == 303
    [(debtor, first), (_, second)] = vault.called("PutDocument")
    assert (debtor.kind, debtor.subject, debtor.tenant_id) == ("debtor", "case-a", "cred-case-a")
    assert (first.case_id, first.filename, first.shareable) == (
        "case-a",
        "bon-de-livraison.pdf",
        True,
    )
    assert second.filename == "photo.png"
    [dispute] = messaging.disputes["case-a"]
    stored = list(dispute.evidence_document_ids)
    assert [vault.documents[i].tenant_id for i in stored] == ["cred-case-a", "cred-case-a"]
    assert [vault.documents[i].content_type for i in stored] == ["application/pdf", "image/png"]
    claim = await browser.get("/portal/claim")
    assert f'href="/portal/documents/{stored[0]}"' in claim.text
    assert "bon-de-livraison.pdf</a>" in claim.text
    downloaded = await browser.get(f"/portal/documents/{stored[0]}")
    assert downloaded.content == PDF


@pytest.mark.parametrize(
    ("name", "content", "rule"),
    [
        ("facture.pdf", b"MZ\x90\x00 not a pdf at all", "un fichier PDF, JPEG ou PNG"),
        ("vide.pdf", b"", "le fichier est vide"),
        ("enorme.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "au plus 10 Mo"),
    ],
)
async def test_a_proof_is_judged_by_its_bytes_and_size_and_a_refused_one_stores_nothing(
    browser: httpx.AsyncClient,
    vault: FakeVault,
    messaging: FakePortalService,
    name: str,
    content: bytes,
    rule: str,
) -> None:
    await answer(browser, TOKEN_A, "69002")
    refused = await post_with_files(
        browser,
        "/portal/dispute",
        {"dispute_reason": "defective", "dispute_text": "cassé"},
        [("dispute_proof", (name, content, "application/pdf"))],
    )
    assert refused.status_code == 422
    error = re.search(r'id="dispute_proof-error">([^<]*)<', refused.text)
    assert error, refused.text
    assert rule in error.group(1)
    assert 'id="dispute_proof" name="dispute_proof" type="file"' in refused.text
    assert "cassé" in refused.text  # the words typed come back
    assert vault.called("PutDocument") == []
    assert messaging.disputes == {}


async def test_a_dispute_refused_for_its_words_stores_none_of_its_proof(
    browser: httpx.AsyncClient, vault: FakeVault, messaging: FakePortalService
) -> None:
    await answer(browser, TOKEN_A, "69002")
    refused = await post_with_files(
        browser,
        "/portal/dispute",
        {"dispute_reason": "other", "dispute_text": "  "},
        [("dispute_proof", ("courrier.pdf", PDF, "application/pdf"))],
    )
    assert refused.status_code == 422
    assert 'id="dispute_text-error">dites ce que vous contestez' in refused.text
    assert vault.called("PutDocument") == []
    assert messaging.disputes == {}


async def test_a_declared_payment_is_refused_beside_each_field_and_nothing_is_stored(
    browser: httpx.AsyncClient, vault: FakeVault, messaging: FakePortalService
) -> None:
    await answer(browser, TOKEN_A, "69002")
    refused = await post_with_files(
        browser,
        "/portal/declare",
        {"declare_amount": "2 000,00", "declare_paid_on": "2999-01-01", "declare_method": "cash"},
        [],
    )
    assert refused.status_code == 422
    errors = dict(re.findall(r'id="(declare_[a-z_]+)-error">([^<]*)<', refused.text))
    assert errors == {
        "declare_amount": "pas plus que ce qui est dû",
        "declare_paid_on": "aujourd&#39;hui ou avant",
        "declare_method": "virement, chèque ou carte",
        "declare_proof": "un justificatif de paiement est requis",
    }
    zero = await post_with_files(
        browser,
        "/portal/declare",
        {"declare_amount": "0", "declare_paid_on": "hier", "declare_method": "card"},
        [("declare_proof", ("releve.pdf", PDF, "application/pdf"))],
    )
    assert zero.status_code == 422
    errors = dict(re.findall(r'id="(declare_[a-z_]+)-error">([^<]*)<', zero.text))
    assert errors == {
        "declare_amount": "doit être supérieur à zéro",
        "declare_paid_on": "une date au format AAAA-MM-JJ",
    }
    assert '<a href="#declare_paid_on">Payé le</a>: une date au format AAAA-MM-JJ' in zero.text
    assert vault.called("PutDocument") == []
    assert messaging.declarations == {}


async def test_i_paid_already_goes_to_messaging_with_its_proof_and_shows_being_checked(
    browser: httpx.AsyncClient, vault: FakeVault, messaging: FakePortalService
) -> None:
    await answer(browser, TOKEN_A, "69002")
    declared = await post_with_files(
        browser,
        "/portal/declare",
        {
            "declare_amount": "500,00",
            "declare_paid_on": "2026-11-28",
            "declare_method": "transfer",
            "declare_reference": " VIR-2026-118 ",
        },
        [("declare_proof", ("releve.pdf", PDF, "application/pdf"))],
    )
    assert declared.status_code == 303
    [declaration] = messaging.declarations["case-a"]
    assert (declaration.amount.currency, declaration.amount.minor_units) == ("EUR", 50000)
    assert declaration.paid_on == "2026-11-28"
    assert (declaration.method, declaration.reference) == ("transfer", "VIR-2026-118")
    assert vault.documents[declaration.proof_document_id].filename == "releve.pdf"
    claim = await browser.get(declared.headers["location"])
    assert (
        "Vous avez déclaré un paiement de 500,00\u00a0EUR effectué le 2026-11-28 "
        "(virement, référence VIR-2026-118)"
    ) in claim.text
    assert "en cours de vérification" in claim.text
    assert f'href="/portal/documents/{declaration.proof_document_id}"' in claim.text
    # The debtor's own proof is shown with its declaration, not among the creditor's documents.
    assert claim.text.count("releve.pdf") == 1


async def test_a_debtor_session_for_one_case_cannot_download_another_cases_proof(
    browser: httpx.AsyncClient, vault: FakeVault, messaging: FakePortalService
) -> None:
    await answer(browser, TOKEN_B, "B-77")
    await post_with_files(
        browser,
        "/portal/declare",
        {"declare_amount": "10", "declare_paid_on": "2026-11-28", "declare_method": "cheque"},
        [("declare_proof", ("cheque-roux.png", PNG, "image/png"))],
    )
    [proof_b] = [d.proof_document_id for d in messaging.declarations["case-b"]]
    letter_b = shared(vault, "case-b", "relance-roux.pdf")
    browser.cookies.clear()
    await answer(browser, TOKEN_A, "69002")
    for document_id in (proof_b, letter_b):
        foreign = await browser.get(f"/portal/documents/{document_id}")
        assert foreign.status_code == 404
        assert foreign.content not in (PNG, b"%PDF-1.7\n")
    claim = await browser.get("/portal/claim")
    assert "cheque-roux.png" not in claim.text
    assert "relance-roux.pdf" not in claim.text


class FakeDebtorAnswers(FakeDebtorActions):
    """A dispute and a declared payment whose proof the debtor stored in the vault."""

    def __init__(self, intake: Any, proof: str) -> None:
        super().__init__(intake)
        self.proof = proof

    async def ListDebtorActions(self, request: pb.ListDebtorActionsRequest) -> pb.DebtorActions:
        self.intake._own(request.case_id)
        return pb.DebtorActions(
            disputes=[
                pb.Dispute(
                    dispute_id="d-1",
                    reason="already-paid",
                    evidence_document_ids=[self.proof],
                    opened_at="2026-12-01T09:00:00Z",
                )
            ],
            declarations=[
                pb.PaymentDeclaration(
                    declaration_id="decl-1",
                    amount=eur(50000),
                    paid_on="2026-11-28",
                    proof_document_id=self.proof,
                    method="cheque",
                    reference="CHQ 0004512",
                )
            ],
        )


async def test_the_creditor_reads_the_debtors_dispute_and_declared_payment_with_their_proof(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    from services.gateway.tests.unit import test_gateway_web_pages as web

    intake = web.FakeIntake()
    services = web.services_for(store, passwords, tokens, intake, secure=False)
    assert services.vault is not None
    vault: FakeVault = services.vault.stub
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as alice:
        await web.signed_in(alice, "owner@acme.fr")
        created = await web.post_form(alice, "/cases/new", "/cases/new", web.CASE_FORM)
        case_id = created.headers["location"].rsplit("/", 1)[-1]
        proof = shared(vault, case_id, "releve-banque.pdf")
        vault.documents[proof].tenant_id = intake.cases[case_id].creditor_id
        services.portal = PortalClient(FakePortalService(), None, FakeDebtorAnswers(intake, proof))
        page = await alice.get(created.headers["location"])
        assert page.status_code == 200
        assert (
            "Paiement déclaré par le débiteur: 500,00\u00a0€, payé le 2026-11-28, chèque, "
            "référence CHQ 0004512"
        ) in page.text
        assert "Contestation: " in page.text
        link = f'href="/cases/{case_id}/documents/{proof}"'
        assert page.text.count(link) >= 3  # the documents list, the dispute, the declaration
        assert "releve-banque.pdf</a>" in page.text
        downloaded = await alice.get(f"/cases/{case_id}/documents/{proof}")
        assert downloaded.content == b"%PDF-1.7\n"
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as bob:
        await web.signed_in(bob, "bob@martin.fr")
        assert (await bob.get(created.headers["location"])).status_code == 404
        foreign = await bob.get(f"/cases/{case_id}/documents/{proof}")
        assert foreign.status_code == 404
        assert foreign.content != b"%PDF-1.7\n"
