"""What every page shares (the pages' `deps`): the request marked as a page, its session and
CSRF check, the creditor it acts for (the API's own authorisation), and forms read once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from gateway.domain.errors import NotAuthenticated
from gateway.domain.model import Principal
from gateway.entrypoints.api.deps import ActingCaller, GatewayServices, Services, current_caller
from gateway.entrypoints.api.problems import validation_error
from gateway.entrypoints.web.rendering import Pages
from gateway.entrypoints.web.sessions import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    WebSessions,
)
from gateway.service_layer import web_sessions
from recouvra_shared.errors import InvalidRequest, Violation

# Fields never echoed back into a form that is shown again.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password", CSRF_FIELD})


def pages_of(request: Request) -> Pages:
    """The templates, loaded at start-up."""
    pages = request.app.state.pages
    assert isinstance(pages, Pages)
    return pages


def sessions_of(request: Request) -> WebSessions:
    """The session and CSRF signer."""
    sessions = request.app.state.web_sessions
    assert isinstance(sessions, WebSessions)
    return sessions


async def page_request(request: Request) -> None:
    """Marks the request as a page (refusals answer in HTML), gives the browser its CSRF cookie
    value, and refuses a POST whose CSRF token was not made for it."""
    request.state.page = True
    sessions = sessions_of(request)
    cookie = request.cookies.get(CSRF_COOKIE)
    if request.method == "POST":
        token = request.headers.get(CSRF_HEADER)
        if token is None:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
        sessions.check_csrf(cookie, token)
    if not cookie:
        cookie = sessions.new_csrf_cookie()
        request.state.new_csrf_cookie = cookie
    request.state.csrf_token = sessions.csrf_token(cookie)


async def session_principal(request: Request, services: GatewayServices) -> Principal:
    """The person the session cookie names, once the server checked the session was not ended
    (logged out everywhere, or the password changed since)."""
    principal, generation = sessions_of(request).session(request.cookies.get(SESSION_COOKIE))
    async with services.unit_of_work() as uow:
        await web_sessions.check_live(principal, generation, uow)
    request.state.principal = principal
    return principal


async def optional_principal(request: Request, services: GatewayServices) -> Principal | None:
    """The person logged in, if any."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return await session_principal(request, services)
    except NotAuthenticated:
        return None


async def page_caller(request: Request, services: Services) -> ActingCaller:
    """The creditor the page acts for, checked exactly as the REST API checks a call."""
    principal = await session_principal(request, services)
    return await current_caller(services, principal, None)


PageCaller = Annotated[ActingCaller, Depends(page_caller)]


def form_page(template: str, **context: Any) -> Any:
    """A route dependency naming the form a refusal shows again, with the values sent and each
    error next to its field."""

    async def remember(request: Request) -> None:
        request.state.form_template = template
        request.state.form_context = context
        if request.method == "POST":
            form = await request.form()
            request.state.form_values = {
                name: value
                for name, value in form.items()
                if isinstance(value, str) and name not in SECRET_FIELDS
            }

    return Depends(remember)


def validated(model: type[BaseModel], data: dict[str, Any]) -> Any:
    """`data` as `model`, or InvalidRequest naming each field as the API would."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        violations = [validation_error(error) for error in exc.errors()]
        raise InvalidRequest([Violation(v.field, v.rule) for v in violations]) from None
