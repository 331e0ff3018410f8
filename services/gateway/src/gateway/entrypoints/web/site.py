"""Installs the pages on the gateway's app: static files, security headers, the page routes, and
refusals on a page answered in HTML (the API's one mapping chooses the status)."""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.api.problems import problem_kind, validation_error
from gateway.entrypoints.web import (
    account_pages,
    case_pages,
    dashboard_page,
    import_pages,
    key_pages,
    money_pages,
    portal_documents,
    portal_pages,
    provider_case_pages,
    provider_fee_pages,
    provider_pages,
    provider_rule_pages,
    quote_pages,
    security_pages,
    team_pages,
    webhook_pages,
)
from gateway.entrypoints.web.rendering import STATIC, Pages, language_of
from gateway.entrypoints.web.rules_fr import rule_in
from gateway.entrypoints.web.sessions import SecurityHeaders, WebSessions
from recouvra_shared.errors import (
    Conflict,
    InvalidRequest,
    Refusal,
    StateConflict,
    Unauthenticated,
    Violation,
)

# Refusals a person fixes in the form they sent: the form comes back with the error by its field.
FORM_REFUSALS = (InvalidRequest, Unauthenticated, Conflict, StateConflict)
YEAR = 365 * 86400


class VersionedStatic(StaticFiles):
    """Static files whose URLs carry their content's hash (?v=...): cached for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The file, cacheable for a year: a new content gets a new URL."""
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
        return response


def _is_page(request: Request) -> bool:
    return bool(getattr(request.state, "page", False))


def refusal_page(request: Request, refusal: Refusal) -> Response:
    """A refusal on a page: the log-in page when the session is missing, the form again with
    every error beside its field, or a page naming what went wrong."""
    pages: Pages = request.app.state.pages
    kind = problem_kind(refusal)
    template = getattr(request.state, "form_template", None)
    if isinstance(refusal, Unauthenticated) and template is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if template is not None and request.method == "POST" and isinstance(refusal, FORM_REFUSALS):
        language = language_of(request)
        violations = [
            Violation(v.field, rule_in(language, v.rule))
            for v in (list(refusal.violations) or [Violation("", refusal.message)])
        ]
        errors: dict[str, str] = {}
        for violation in violations:
            errors.setdefault(violation.field, violation.rule)
        context: dict[str, Any] = dict(getattr(request.state, "form_context", {}))
        context.update(
            errors=errors,
            violations=violations,
            values=getattr(request.state, "form_values", {}),
        )
        response = pages.render(request, template, context, status_code=kind.status)
    else:
        response = pages.render(
            request,
            "error.html",
            {"status": kind.status, "refusal": refusal},
            status_code=kind.status,
        )
    if kind.status == 429 and hasattr(refusal, "retry_after"):
        response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def install(app: FastAPI, services: GatewayServices | None) -> None:
    """Serve the pages beside the API; call after the API's error handlers are installed. An app
    built only to print its OpenAPI document (no services: the pages are not in it) gets none."""
    if services is None:
        return
    app.state.pages = Pages.load()
    app.state.web_sessions = WebSessions(services.fingerprint_secret)
    app.state.secure_cookies = services.secure_cookies
    app.mount("/static", VersionedStatic(directory=STATIC), name="static")
    app.add_middleware(SecurityHeaders)
    api_on_refusal = app.exception_handlers[Refusal]
    api_on_validation = app.exception_handlers[RequestValidationError]

    async def on_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)
        if _is_page(request):
            return refusal_page(request, exc)
        answer = api_on_refusal(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if _is_page(request):
            errors = [validation_error(e) for e in exc.errors()]
            refusal = InvalidRequest([Violation(e.field, e.rule) for e in errors])
            return refusal_page(request, refusal)
        answer = api_on_validation(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.include_router(account_pages.router)
    app.include_router(team_pages.router)
    app.include_router(dashboard_page.router)
    app.include_router(import_pages.router)  # /cases/import before /cases/{case_id}
    app.include_router(quote_pages.router)
    app.include_router(provider_case_pages.router)  # its POSTs before /provider/cases/{id}/{answer}
    app.include_router(provider_pages.router)
    app.include_router(provider_rule_pages.router)
    app.include_router(provider_fee_pages.router)
    app.include_router(security_pages.router)
    app.include_router(key_pages.router)
    app.include_router(money_pages.router)
    app.include_router(webhook_pages.router)
    app.include_router(case_pages.router)
    app.include_router(portal_pages.router)
    app.include_router(portal_documents.router)
