"""A person's sign-in security: change the password, log out everywhere. Both end every web
session of the user on the server (a stolen cookie stops working at once); this browser gets a
new session after a password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.domain.model import Principal
from gateway.entrypoints.api.deps import Services
from gateway.entrypoints.web.page_deps import (
    form_page,
    page_request,
    pages_of,
    session_principal,
    sessions_of,
)
from gateway.entrypoints.web.sessions import SESSION_COOKIE
from gateway.service_layer import web_sessions

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])


async def _person(request: Request, services: Services) -> Principal:
    return await session_principal(request, services)


Person = Annotated[Principal, Depends(_person)]


@router.get("/account/security")
async def security_page(request: Request, person: Person, changed: bool = False) -> HTMLResponse:
    """The password form and the button that logs out every browser."""
    return pages_of(request).render(request, "account_security.html", {"changed": changed})


@router.post("/account/password", dependencies=[form_page("account_security.html")])
async def change_password(
    request: Request,
    person: Person,
    services: Services,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """A new password; every session ends, this browser gets a new one."""
    async with services.unit_of_work() as uow:
        generation = await web_sessions.change_password(
            person, current_password, new_password, uow, services.passwords
        )
    response = RedirectResponse("/account/security?changed=true", status_code=303)
    sessions = sessions_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.issue(person, generation=generation),
        max_age=sessions.ttl_seconds,
        path="/",
        httponly=True,
        secure=services.secure_cookies,
        samesite="lax",
    )
    return response


@router.post("/logout/everywhere")
async def log_out_everywhere(person: Person, services: Services) -> Response:
    """Ends every session of the user, in every browser, this one included."""
    async with services.unit_of_work() as uow:
        await web_sessions.end_sessions(person, uow)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
