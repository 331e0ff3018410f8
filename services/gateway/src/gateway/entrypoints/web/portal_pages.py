"""The debtor portal's pages (issue 16 point 4, issue 20's "pay by bank" button).

The link from a letter or an e-mail (/portal/<token>) first asks a second factor (an invoice
number or the postal code) and shows nothing else; messaging's PortalService checks both and
counts wrong answers (locked for good after 5). The session it answers, which names one case
and lasts 30 minutes, is kept in a cookie of its own (HttpOnly, SameSite=Strict, path /portal):
no page names a case id, so a session opens its one case and nothing else. Every action is a
form that works without JavaScript; a refusal shows the claim page again with the error beside
the field. "Pay by bank" asks settlement for a payment link as the case's debtor, for an amount
read from the claim (never typed), and redirects the browser to the bank's page.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.portal import PortalClient
from gateway.adapters.vault import VaultClient
from gateway.entrypoints.api.deps import GatewayServices, Services
from gateway.entrypoints.web.page_deps import page_request, pages_of
from gateway.entrypoints.web.portal_documents import shared_documents
from gateway.entrypoints.web.portal_proofs import (
    ACCEPTED,
    FORM_SLACK_BYTES,
    MAX_PROOF_BYTES,
    MAX_PROOFS,
    attached,
    checked_proofs,
    proofs_of,
    store_proofs,
)
from gateway.entrypoints.web.portal_view import (
    TOTAL,
    chosen,
    epc_qr_svg,
    money_text,
    next_instalment,
    pay_choices,
    typed_minor,
)
from gateway.entrypoints.web.rendering import language_of
from gateway.entrypoints.web.rules_fr import rule_in
from recouvra.common.v1.money_pb2 import Money
from recouvra.messaging.v1 import portal_pb2 as pb
from recouvra_shared.context import Caller
from recouvra_shared.errors import (
    InvalidField,
    InvalidRequest,
    PermissionDenied,
    Refusal,
    Violation,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

PORTAL_COOKIE = "recouvra_portal"
SESSION_SECONDS = 30 * 60
REASONS = ("not-delivered", "defective", "not-ordered", "wrong-amount", "already-paid", "other")
PERIODS = ("monthly", "fortnightly", "weekly")
REFUSABLE = ("email", "sms")
METHODS = ("transfer", "cheque", "card")
MAX_REFERENCE = 140
_LEFT = re.compile(r"\((\d+) attempts? left\)")
Token = Annotated[str, Path(max_length=400)]


async def _portal(services: Services) -> PortalClient:
    if services.portal is None:
        raise RuntimeError("the portal client is not wired")
    return services.portal


Portal = Annotated[PortalClient, Depends(_portal)]


async def debtor_actions_of(
    services: GatewayServices, caller: Caller, case_id: str
) -> pb.DebtorActions | None:
    """What the debtor recorded on the case (plans with their schedule, promises, disputes),
    for the creditor's case page; None when messaging is not wired or does not answer (the
    case page still shows everything else)."""
    if services.portal is None or services.portal.debtor_actions is None:
        return None
    try:
        return await services.portal.actions(caller, case_id)
    except (grpc.aio.AioRpcError, Refusal) as exc:  # e.g. UNAVAILABLE, relayed as a refusal
        log.warning("the debtor's answers cannot be shown on a case page: %r", exc)
        return None


def _session(request: Request) -> str:
    return request.cookies.get(PORTAL_COOKIE, "")


def _ended(request: Request) -> HTMLResponse:
    """The session is missing or over: the debtor opens the link of its letter again."""
    response = pages_of(request).render(request, "portal_ended.html", status_code=401)
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


def _denied_session(refusal: PermissionDenied) -> bool:
    return str(refusal).startswith("session")


async def _claim_or_ended(request: Request, portal: PortalClient) -> pb.Claim | HTMLResponse:
    """The session's claim, or the page saying the session is missing or over."""
    session = _session(request)
    if not session:
        return _ended(request)
    try:
        return await portal.claim(session)
    except PermissionDenied as refusal:
        if _denied_session(refusal):
            return _ended(request)
        raise


async def _claim_page(
    request: Request,
    portal: PortalClient,
    *,
    violations: list[Violation] | None = None,
    status_code: int = 200,
    done: str = "",
) -> HTMLResponse:
    claim = await _claim_or_ended(request, portal)
    if isinstance(claim, HTMLResponse):
        return claim
    language = language_of(request)
    shown = [Violation(v.field, rule_in(language, v.rule)) for v in violations or []]
    errors: dict[str, str] = {}
    for violation in shown:
        errors.setdefault(violation.field, violation.rule)
    values: dict[str, str] = {}
    if violations is not None and request.method == "POST":
        form = await request.form()
        values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    documents = await shared_documents(request.app.state.services, claim)
    proofs = proofs_of(claim)
    names = {d.document_id: d.filename for d in documents or []}
    plans = list(claim.plans)
    live_plan = next((p for p in plans if p.state in ("pending", "agreed")), None)
    return pages_of(request).render(
        request,
        "portal_claim.html",
        {
            "claim": claim,
            "money": lambda m: money_text(m, language),
            "money_of": lambda minor, currency: money_text(
                Money(currency=currency, minor_units=minor), language
            ),
            "qr_svg": epc_qr_svg(claim.how_to_pay.epc_qr_payload, "EPC QR"),
            "choices": pay_choices(claim),
            "plans": plans,
            "documents": [d for d in documents or [] if d.document_id not in proofs],
            "proof_names": names,
            "accepted": ACCEPTED,
            "proof_key": str(uuid.uuid4()),
            "live_plan": live_plan,
            "next_due": next_instalment(live_plan) if live_plan is not None else None,
            "reasons": REASONS,
            "periods": PERIODS,
            "refusable": REFUSABLE,
            "methods": METHODS,
            "refused": set(claim.refused_channels),
            "open_disputes": [d for d in claim.disputes if not d.resolved_at],
            "errors": errors,
            "violations": shown,
            "values": values,
            "done": done,
        },
        status_code=status_code,
    )


@router.get("/portal/claim")
async def claim_page(request: Request, portal: Portal, done: str = "") -> Response:
    """The claim itemised, how to pay, and what the debtor can do."""
    return await _claim_page(request, portal, done=done[:20])


async def _acted(
    request: Request, portal: PortalClient, action: Any, fields: dict[str, str], done: str
) -> Response:
    """Runs one action with the session; a refused form comes back with errors by its fields."""
    session = _session(request)
    if not session:
        return _ended(request)
    try:
        await action(session)
    except PermissionDenied as refusal:
        if _denied_session(refusal):
            return _ended(request)
        raise
    except InvalidRequest as refusal:
        renamed = refusal.with_fields_renamed(fields)
        return await _claim_page(
            request, portal, violations=list(renamed.violations), status_code=422
        )
    return RedirectResponse(f"/portal/claim?done={done}#{done}", status_code=303)


@router.post("/portal/plan")
async def propose_plan(
    request: Request,
    portal: Portal,
    plan_count: Annotated[int, Form(ge=0, le=99)],
    plan_first_due_on: Annotated[str, Form(max_length=10)] = "",
    plan_period: Annotated[str, Form(max_length=20)] = "monthly",
) -> Response:
    """Proposes an instalment plan; the answer (agreed or waiting) shows on the claim."""
    fields = {"count": "plan_count", "first_due_on": "plan_first_due_on", "period": "plan_period"}

    async def act(session: str) -> None:
        await portal.propose_plan(session, plan_count, plan_first_due_on, plan_period)

    return await _acted(request, portal, act, fields, "plan")


async def _currency(portal: PortalClient, request: Request) -> str:
    claim = await portal.claim(_session(request))
    return str(claim.total.currency)


@router.post("/portal/promise")
async def promise(
    request: Request,
    portal: Portal,
    promise_amount: Annotated[str, Form(max_length=30)] = "",
    promise_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Promises to pay an amount on a day."""
    fields = {"amount": "promise_amount", "amount.currency": "promise_amount"}
    fields["promised_on"] = "promise_on"

    async def act(session: str) -> None:
        currency = await _currency(portal, request)
        minor = typed_minor("amount", promise_amount, currency)
        await portal.promise(session, currency, minor, promise_on)

    return await _acted(request, portal, act, fields, "promise")


def _vault(services: GatewayServices) -> VaultClient:
    if services.vault is None:
        raise RuntimeError("the vault client is not wired")
    return services.vault


@router.post("/portal/dispute", max_body_size=MAX_PROOFS * MAX_PROOF_BYTES + FORM_SLACK_BYTES)
async def dispute(
    request: Request,
    portal: Portal,
    services: Services,
    dispute_reason: Annotated[str, Form(max_length=20)] = "",
    dispute_text: Annotated[str, Form(max_length=4000)] = "",
    proof_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Contests the claim with a reason, the debtor's words and proof (stored in the vault as
    the case's evidence before messaging is told; a form refused here stores nothing)."""
    fields = {"reason": "dispute_reason", "text": "dispute_text"}
    fields["evidence_document_ids"] = "dispute_proof"

    async def act(session: str) -> None:
        if dispute_reason not in REASONS:
            raise InvalidField("reason", "choose a reason from the list")
        if dispute_reason == "other" and not dispute_text.strip():
            # messaging's own rule, checked first so that a refused dispute stores no proof
            raise InvalidField("text", "say what is contested when the reason is other")
        files = attached((await request.form()).getlist("dispute_proof"))
        proofs = await checked_proofs("evidence_document_ids", files, required=False)
        evidence: list[str] = []
        if proofs:
            claim = await portal.claim(session)
            evidence = await store_proofs(
                _vault(services), claim, proofs, kind="other", key=proof_key
            )
        await portal.dispute(session, dispute_reason, dispute_text.strip(), evidence)

    return await _acted(request, portal, act, fields, "dispute")


def _paid_on(typed: str) -> str:
    """A day in ISO 8601, today or earlier (messaging checks it again)."""
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        raise InvalidField("paid_on", "an ISO 8601 date (YYYY-MM-DD)") from None
    if day > datetime.now(UTC).date():
        raise InvalidField("paid_on", "today or earlier")
    return day.isoformat()


@router.post("/portal/declare", max_body_size=MAX_PROOF_BYTES + FORM_SLACK_BYTES)
async def declare_payment(
    request: Request,
    portal: Portal,
    services: Services,
    declare_amount: Annotated[str, Form(max_length=30)] = "",
    declare_paid_on: Annotated[str, Form(max_length=10)] = "",
    declare_method: Annotated[str, Form(max_length=20)] = "",
    declare_reference: Annotated[str, Form(max_length=200)] = "",
    proof_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """ "I paid already": the amount, the day and a proof; messaging records it, tells the
    creditor and holds the reminders while the money is looked for."""
    fields = {"amount": "declare_amount", "amount.currency": "declare_amount"}
    fields |= {"paid_on": "declare_paid_on", "proof_document_id": "declare_proof"}
    fields |= {"method": "declare_method", "reference": "declare_reference"}

    async def act(session: str) -> None:
        claim = await portal.claim(session)
        currency = str(claim.total.currency)
        problems: list[Violation] = []
        minor, paid_on, proofs = 0, "", []
        try:
            minor = typed_minor("amount", declare_amount, currency)
            if minor > int(claim.total.minor_units):
                raise InvalidField("amount", "not more than what is owed")
        except InvalidRequest as refused:
            problems.extend(refused.violations)
        try:
            paid_on = _paid_on(declare_paid_on)
        except InvalidRequest as refused:
            problems.extend(refused.violations)
        if declare_method not in METHODS:
            problems.append(Violation("method", "transfer, cheque or card"))
        if len(declare_reference.strip()) > MAX_REFERENCE:
            problems.append(Violation("reference", f"at most {MAX_REFERENCE} characters"))
        try:
            files = attached((await request.form()).getlist("declare_proof"))
            proofs = await checked_proofs("proof_document_id", files, required=True, most=1)
        except InvalidRequest as refused:
            problems.extend(refused.violations)
        if problems:
            raise InvalidRequest(problems)
        stored = await store_proofs(_vault(services), claim, proofs, kind="other", key=proof_key)
        await portal.declare_payment(
            session, currency, minor, paid_on, stored[0], declare_method, declare_reference.strip()
        )

    return await _acted(request, portal, act, fields, "declare")


@router.post("/portal/preferences")
async def preferences(request: Request, portal: Portal) -> Response:
    """The channels the debtor refuses from now on (a letter cannot be refused)."""
    form = await request.form()
    refused = [c for c in REFUSABLE if form.get(f"refuse_{c}") == "on"]

    async def act(session: str) -> None:
        await portal.refuse_channels(session, refused)

    return await _acted(request, portal, act, {"refused_channels": "refuse_email"}, "contact")


@router.get("/portal/pay")
async def pay_by_bank(
    request: Request,
    portal: Portal,
    what: Annotated[str, Query(alias="for", max_length=80)] = TOTAL,
) -> Response:
    """A pay-by-bank link for the whole amount, the next instalment or a promised amount, read
    from the claim; the browser goes on to the bank's page. A GET (a link, not a form) so that
    the Content-Security-Policy's form-action, rightly, need not name the bank; the session
    cookie is SameSite=Strict, so another site cannot start it."""
    claim = await _claim_or_ended(request, portal)
    if isinstance(claim, HTMLResponse):
        return claim
    choice = chosen(claim, what)
    link = await portal.payment_link(
        claim.case_id, choice.currency, choice.minor_units, claim.debtor_name
    )
    return RedirectResponse(link.url, status_code=303)


@router.post("/portal/end")
async def end_session(request: Request) -> Response:
    """Closes the portal in this browser (a shared phone, a shared computer)."""
    response = pages_of(request).render(request, "portal_ended.html", {"closed": True})
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


def _second_factor_page(
    request: Request, token: str, error: str = "", status_code: int = 200
) -> HTMLResponse:
    errors = {"second_factor": error} if error else {}
    return pages_of(request).render(
        request,
        "portal_open.html",
        {"token": token, "errors": errors},
        status_code=status_code,
    )


@router.get("/portal/{token}")
async def open_link(request: Request, token: Token) -> HTMLResponse:
    """The link from the letter: a question only the debtor can answer, nothing else."""
    return _second_factor_page(request, token)


@router.post("/portal/{token}")
async def answer(
    request: Request,
    token: Token,
    portal: Portal,
    second_factor: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Checks the answer; right, the claim; wrong, the question again with the attempts left;
    locked or no longer valid, a plain message."""
    if not second_factor.strip():
        return _second_factor_page(request, token, "empty", status_code=422)
    try:
        opened = await portal.open(token, second_factor)
    except PermissionDenied as refusal:
        message = str(refusal)
        if message.startswith("second_factor"):
            left = _LEFT.search(message)
            return _second_factor_page(
                request, token, left.group(1) if left else "0", status_code=403
            )
        template = "portal_locked.html" if "locked" in message else "portal_invalid.html"
        return pages_of(request).render(request, template, status_code=403)
    response = RedirectResponse("/portal/claim", status_code=303)
    response.set_cookie(
        PORTAL_COOKIE,
        opened.session,
        max_age=SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=bool(request.app.state.secure_cookies),
        path="/portal",
    )
    return response
