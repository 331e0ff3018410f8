"""A creditor's team: an admin invites people by e-mail with a role (the link is in the answer,
once: the gateway sends no e-mail yet), lists and revokes pending invitations; the invited
person accepts with the link's token and a password, and joins the same organisation. Every
person lists the team; an admin changes a person's role or removes the person, never leaving
the team without an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from gateway.domain.team import TeamRole
from gateway.entrypoints.api.deps import CurrentPrincipal, Services
from gateway.entrypoints.api.idempotency import Idempotent, Outcome
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.common import plain_text
from gateway.schemas.team import (
    InvitationAcceptance,
    InvitationList,
    InvitationRequest,
    InvitationSent,
    InvitationView,
    Joined,
    MemberList,
    MemberView,
    RoleChange,
)
from gateway.service_layer import team
from gateway.service_layer.unit_of_work import GatewayUnitOfWork

router = APIRouter(prefix="/v1", tags=["accounts"])

InvitationId = Annotated[
    str, Path(max_length=64, description="A pending invitation's id"), AfterValidator(plain_text)
]

UserId = Annotated[
    str, Path(max_length=64, description="A person's user_id"), AfterValidator(plain_text)
]


def invitation_link(request: Request, token: str) -> str:
    """The page where the invited person accepts, on this gateway."""
    return f"{str(request.base_url).rstrip('/')}/invitations/{token}"


@router.post(
    "/team/invitations",
    summary="Invite a person to your team (the link is shown once)",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationSent,
    responses=problem_responses(401, 403, 409, 422, 503),
)
async def invite(
    body: InvitationRequest,
    request: Request,
    principal: CurrentPrincipal,
    services: Services,
    once: Idempotent,
) -> JSONResponse:
    """An admin's log-in only (not an API key). The link opens once within seven days; pass it
    on to the person yourself (no e-mail is sent yet). A replay answers the link as null."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        sent = await team.invite(principal, str(body.email), TeamRole(body.role), uow)
        view = InvitationSent(
            **InvitationView.of(sent.invitation).model_dump(),
            link=invitation_link(request, sent.token),
        ).model_dump(mode="json")
        return Outcome(status.HTTP_201_CREATED, view, replay_body=view | {"link": None})

    return await once.answer(principal.subject, body.model_dump(mode="json"), effect)


@router.get(
    "/team/invitations",
    summary="Your team's pending invitations",
    response_model=InvitationList,
    responses=problem_responses(401, 403, 422, 503),
)
async def list_invitations(principal: CurrentPrincipal, services: Services) -> InvitationList:
    """Neither used, revoked nor expired; newest first; never their links."""
    async with services.unit_of_work() as uow:
        found = await team.pending(principal, uow)
    return InvitationList(items=[InvitationView.of(i) for i in found])


@router.delete(
    "/team/invitations/{invitation_id}",
    summary="Revoke a pending invitation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def revoke_invitation(
    invitation_id: InvitationId, principal: CurrentPrincipal, services: Services
) -> Response:
    """Its link stops opening at once; another organisation's invitation is 404."""
    async with services.unit_of_work() as uow:
        await team.revoke(principal, invitation_id, uow)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invitations/accept",
    summary="Accept an invitation: join the team with a password of your own",
    status_code=status.HTTP_201_CREATED,
    response_model=Joined,
    responses=problem_responses(404, 409, 422, 503),
)
async def accept_invitation(
    body: InvitationAcceptance, services: Services, once: Idempotent
) -> JSONResponse:
    """No credentials: the token is the proof. A link used, revoked or expired is 409 naming
    why; one that never was an invitation is 404."""

    async def effect(uow: GatewayUnitOfWork) -> Outcome:
        principal, user = await team.accept(body.token, body.password, uow, services.passwords)
        joined = Joined(
            organisation_id=principal.organisation_id,
            user_id=user.user_id,
            email=user.email,
            role="admin" if user.role == TeamRole.ADMIN else "member",
        )
        return Outcome(status.HTTP_201_CREATED, joined.model_dump(mode="json"))

    return await once.answer("anonymous", body.model_dump(mode="json"), effect)


@router.get(
    "/team/members",
    summary="Your team's people",
    response_model=MemberList,
    responses=problem_responses(401, 403, 503),
)
async def list_members(principal: CurrentPrincipal, services: Services) -> MemberList:
    """Oldest first, with their roles; every person of the team may read it (a log-in, not an
    API key)."""
    async with services.unit_of_work() as uow:
        found = await team.members(principal, uow)
    return MemberList(items=[MemberView.of(user) for user in found])


@router.patch(
    "/team/members/{user_id}",
    summary="Change a person's role in your team",
    response_model=MemberView,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def change_role(
    user_id: UserId, body: RoleChange, principal: CurrentPrincipal, services: Services
) -> MemberView:
    """An admin's log-in only. 409 (naming `role`) when it would leave the team without an
    admin; a person of another team is 404. Setting the role a person has changes nothing."""
    async with services.unit_of_work() as uow:
        changed = await team.change_role(principal, user_id, TeamRole(body.role), uow)
        await uow.commit()
    return MemberView.of(changed)


@router.delete(
    "/team/members/{user_id}",
    summary="Remove a person from your team",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)
async def remove_member(
    user_id: UserId, principal: CurrentPrincipal, services: Services
) -> Response:
    """An admin's log-in only. The person's account is deleted: its sessions and access tokens
    are refused from the next request on, and its e-mail may be invited again. The
    organisation's API keys stay; revoke the ones the person knew. 409 (naming `user_id`) when it
    would leave the team without an admin; a person of another team is 404."""
    async with services.unit_of_work() as uow:
        await team.remove(principal, user_id, uow)
        await uow.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
