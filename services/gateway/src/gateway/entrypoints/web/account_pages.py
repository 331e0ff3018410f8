"""Sign up, log in, log out, choose the language: the same account use cases as the REST API,
with its rate limits and lock-outs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.adapters.rate_limits import LOG_IN, SIGN_UP
from gateway.domain.model import OrganisationKind, SignUp
from gateway.entrypoints.api.deps import Services, client_address, rate_limited
from gateway.entrypoints.web.page_deps import (
    form_page,
    optional_principal,
    page_request,
    pages_of,
    sessions_of,
    validated,
)
from gateway.entrypoints.web.rendering import LANGUAGE_COOKIE, LANGUAGES
from gateway.entrypoints.web.sessions import SESSION_COOKIE
from gateway.schemas.accounts import SignUpRequest
from gateway.service_layer import accounts, web_sessions

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])
YEAR = 365 * 86400


def _local(target: str, default: str = "/dashboard") -> str:
    """Only a path of this site: `next` never sends anyone elsewhere."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@router.get("/")
async def home(request: Request, services: Services) -> Response:
    """The dashboard for a creditor logged in, the log-in page otherwise."""
    principal = await optional_principal(request, services)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    if principal.kind is OrganisationKind.PROVIDER:
        return RedirectResponse("/provider", status_code=303)
    return RedirectResponse("/dashboard", status_code=303)


@router.get("/login")
async def login_form(request: Request, next: str = "", signed_up: bool = False) -> HTMLResponse:
    """The log-in form."""
    return pages_of(request).render(
        request, "login.html", {"next": _local(next, ""), "signed_up": signed_up}
    )


@router.post("/login", dependencies=[form_page("login.html"), rate_limited(LOG_IN)])
async def log_in(
    request: Request,
    services: Services,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Checks the password with the API's log-in use case (lock-outs, device cookie), then opens
    a session."""
    request.state.form_context = {"next": _local(next, "")}
    email = accounts.normalise_email(email)
    cookies = services.device_cookies
    trusted = bool(cookies and cookies.vouches_for(request.cookies.get(cookies.NAME), email))
    async with services.unit_of_work() as uow:
        principal = await accounts.log_in(
            email,
            password,
            uow,
            services.passwords,
            services.login_policy,
            address=client_address(request),
            trusted_device=trusted,
        )
    async with services.unit_of_work() as uow:
        generation = await web_sessions.generation(principal, uow)
    home = "/provider" if principal.kind is OrganisationKind.PROVIDER else "/dashboard"
    response = RedirectResponse(_local(next, home), status_code=303)
    secure = services.secure_cookies
    if cookies is not None:
        response.set_cookie(
            cookies.NAME,
            cookies.issue(email),
            max_age=cookies.ttl_seconds,
            path="/",
            httponly=True,
            secure=secure,
            samesite="strict",
        )
    sessions = sessions_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.issue(principal, generation=generation),
        max_age=sessions.ttl_seconds,
        path="/",
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    return response


@router.post("/logout")
async def log_out() -> Response:
    """Ends the session in this browser."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/signup")
async def sign_up_form(request: Request) -> HTMLResponse:
    """The sign-up form."""
    return pages_of(request).render(request, "signup.html")


@router.post("/signup", dependencies=[form_page("signup.html"), rate_limited(SIGN_UP)])
async def sign_up(
    request: Request,
    services: Services,
    organisation_name: Annotated[str, Form()] = "",
    siren: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
) -> Response:
    """Opens a creditor with the API's sign-up use case; like the API, the answer is the same
    whether or not the e-mail already had an account, so the next step is always to log in."""
    body: SignUpRequest = validated(
        SignUpRequest,
        {
            "organisation_name": organisation_name,
            "kind": "creditor",
            "siren": siren.strip() or None,
            "email": email.strip(),
            "password": password,
        },
    )
    command = SignUp(
        organisation_name=body.organisation_name,
        kind=OrganisationKind.CREDITOR,
        siren=body.siren,
        email=str(body.email),
        password=body.password,
    )
    async with services.unit_of_work() as uow:
        await accounts.sign_up_quietly(command, uow, services.passwords)
        await uow.commit()
    return RedirectResponse("/login?signed_up=true", status_code=303)


@router.post("/language")
async def choose_language(
    language: Annotated[str, Form(max_length=5)] = "fr",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Remembers the language chosen, in a cookie, and goes back to the page."""
    response = RedirectResponse(_local(next, "/"), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=YEAR, path="/", samesite="lax")
    return response
