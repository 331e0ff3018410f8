"""A creditor's team on a page: an admin sees its people and pending invitations, invites a
person by e-mail with a role (the link is shown on the answer, once, to pass on: the gateway
sends no e-mail yet), revokes an invitation, changes a person's role and removes a person; the
invited person opens the link, sets a password and is logged in to the same organisation. The
API's own use cases (service_layer.team)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.domain.model import Principal
from gateway.domain.team import TeamRole
from gateway.entrypoints.api.deps import Services
from gateway.entrypoints.api.team import invitation_link
from gateway.entrypoints.web.page_deps import (
    form_page,
    page_request,
    pages_of,
    session_principal,
    sessions_of,
    validated,
)
from gateway.entrypoints.web.rendering import language_of
from gateway.entrypoints.web.rules_fr import rule_in
from gateway.entrypoints.web.sessions import SESSION_COOKIE
from gateway.schemas.team import InvitationRequest, RoleChange
from gateway.service_layer import team, web_sessions
from gateway.service_layer.web_sessions import USER_PREFIX
from recouvra_shared.errors import Conflict, NotFound, StateConflict

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])
ROLES = tuple(role.value for role in TeamRole)


async def _person(request: Request, services: Services) -> Principal:
    return await session_principal(request, services)


Person = Annotated[Principal, Depends(_person)]


async def _team(person: Principal, services: Services) -> dict[str, Any]:
    async with services.unit_of_work() as uow:
        admin = await team.is_admin(person, uow)
        return {
            "members": await team.members(person, uow),
            "invitations": await team.pending(person, uow) if admin else [],
            "roles": ROLES,
            "admin": admin,
        }


@router.get("/account/team")
async def team_page(
    request: Request,
    person: Person,
    services: Services,
    revoked: bool = False,
    changed: bool = False,
    removed: bool = False,
) -> HTMLResponse:
    """The team; for an admin, its pending invitations, the form to invite someone and, for
    each person, the role and a way to remove the person."""
    context = await _team(person, services)
    done = {"revoked": revoked, "changed": changed, "removed": removed}
    return pages_of(request).render(request, "team.html", context | done)


async def _refused(
    request: Request, person: Principal, services: Services, refusal: Conflict
) -> HTMLResponse:
    """The team again, saying why the change to a person was refused (it would leave the team
    without an admin), nothing changed."""
    reasons = [v.rule for v in refusal.violations] or [refusal.message]
    context = await _team(person, services)
    error = rule_in(language_of(request), reasons[0])
    return pages_of(request).render(
        request, "team.html", context | {"member_error": error}, status_code=409
    )


@router.post("/account/team/members/{user_id}/role")
async def change_role(
    request: Request,
    user_id: str,
    person: Person,
    services: Services,
    role: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """An admin gives a person another role; a person of another team is 404."""
    body: RoleChange = validated(RoleChange, {"role": role})
    async with services.unit_of_work() as uow:
        try:
            await team.change_role(person, user_id[:64], TeamRole(body.role), uow)
        except Conflict as refusal:
            return await _refused(request, person, services, refusal)
        await uow.commit()
    return RedirectResponse("/account/team?changed=true", status_code=303)


@router.post("/account/team/members/{user_id}/remove")
async def remove(request: Request, user_id: str, person: Person, services: Services) -> Response:
    """An admin removes a person, whose sessions end at once; an admin who removes itself is
    sent to the log-in page."""
    async with services.unit_of_work() as uow:
        try:
            await team.remove(person, user_id[:64], uow)
        except Conflict as refusal:
            return await _refused(request, person, services, refusal)
        await uow.commit()
    if person.subject == f"{USER_PREFIX}{user_id}":
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return RedirectResponse("/account/team?removed=true", status_code=303)


@router.post("/account/team/invitations", dependencies=[form_page("team.html", roles=ROLES)])
async def invite(
    request: Request,
    person: Person,
    services: Services,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "member",
) -> HTMLResponse:
    """A new invitation; the answer shows its link once (the page is not cached)."""
    request.state.form_context = await _team(person, services)
    body: InvitationRequest = validated(InvitationRequest, {"email": email.strip(), "role": role})
    async with services.unit_of_work() as uow:
        sent = await team.invite(person, str(body.email), TeamRole(body.role), uow)
        await uow.commit()
    context = await _team(person, services)
    return pages_of(request).render(
        request,
        "team.html",
        context | {"sent": sent.invitation, "link": invitation_link(request, sent.token)},
    )


@router.post("/account/team/invitations/{invitation_id}/revoke")
async def revoke(invitation_id: str, person: Person, services: Services) -> Response:
    """The link stops opening at once; another organisation's invitation is 404."""
    async with services.unit_of_work() as uow:
        await team.revoke(person, invitation_id[:64], uow)
        await uow.commit()
    return RedirectResponse("/account/team?revoked=true", status_code=303)


def _ended(request: Request, refusal: NotFound | StateConflict) -> HTMLResponse:
    """A link that does not open (any more), saying why, with nothing of the organisation."""
    status = 404 if isinstance(refusal, NotFound) else 409
    reason = refusal.message.removeprefix("invitation: ")
    return pages_of(request).render(
        request, "invitation_ended.html", {"reason": reason, "status": status}, status_code=status
    )


@router.get("/invitations/{token}")
async def invitation_page(request: Request, token: str, services: Services) -> HTMLResponse:
    """Who invites whom, and the password form; a used, revoked or expired link says so."""
    async with services.unit_of_work() as uow:
        try:
            opened = await team.open_invitation(token[:100], uow)
        except (NotFound, StateConflict) as refusal:
            return _ended(request, refusal)
    return pages_of(request).render(request, "invitation.html", {"opened": opened, "token": token})


@router.post("/invitations/{token}")
async def accept(
    request: Request,
    token: str,
    services: Services,
    password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Opens the account in the team and logs the person in; a refused password comes back
    beside its field, the link still unused."""
    async with services.unit_of_work() as uow:
        try:
            opened = await team.open_invitation(token[:100], uow)
        except (NotFound, StateConflict) as refusal:
            return _ended(request, refusal)
    request.state.form_template = "invitation.html"
    request.state.form_context = {"opened": opened, "token": token}
    request.state.form_values = {}
    async with services.unit_of_work() as uow:
        try:
            principal, _ = await team.accept(token[:100], password, uow, services.passwords)
        except (NotFound, StateConflict) as refusal:
            return _ended(request, refusal)
        await uow.commit()
    async with services.unit_of_work() as uow:
        generation = await web_sessions.generation(principal, uow)
    response = RedirectResponse("/dashboard", status_code=303)
    sessions = sessions_of(request)
    response.set_cookie(
        SESSION_COOKIE,
        sessions.issue(principal, generation=generation),
        max_age=sessions.ttl_seconds,
        path="/",
        httponly=True,
        secure=services.secure_cookies,
        samesite="lax",
    )
    return response
