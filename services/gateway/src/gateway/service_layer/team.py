"""A creditor's team: an admin invites a person by e-mail with a role; the person opens the link
once, before it expires, sets a password and joins the same organisation. The link's token is
random (256 bits) and only its SHA-256 is stored, so a copy of the database opens nothing."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from gateway.domain.errors import Conflict, EmailTaken, NotAllowed, NotFound
from gateway.domain.model import (
    Organisation,
    OrganisationKind,
    Principal,
    User,
    check_password,
    new_id,
)
from gateway.domain.team import LAST_ADMIN, Invitation, TeamRole, expiry, keeps_an_admin
from gateway.service_layer.accounts import normalise_email
from gateway.service_layer.unit_of_work import GatewayUnitOfWork, Passwords
from gateway.service_layer.web_sessions import USER_PREFIX
from recouvra_shared.errors import StateConflict, Violation
from recouvra_shared.unit_of_work import utcnow

NO_INVITATION = "invitation: this link is not valid"


@dataclass(frozen=True)
class Sent:
    """An invitation just made, with the token its link carries (shown once, never kept)."""

    invitation: Invitation
    token: str


@dataclass(frozen=True)
class Opened:
    """An invitation a person may still accept, and the organisation it joins."""

    invitation: Invitation
    organisation: Organisation


def token_hash(token: str) -> str:
    """What is stored of a link's token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _person(principal: Principal, uow: GatewayUnitOfWork) -> User:
    """The creditor's person acting (a log-in, not an API key)."""
    if principal.kind is not OrganisationKind.CREDITOR:
        raise NotAllowed("only a creditor's team is managed here")
    user = None
    if principal.subject.startswith(USER_PREFIX):
        user = await uow.accounts.user_by_id(principal.subject.removeprefix(USER_PREFIX))
    if user is None or user.organisation_id != principal.organisation_id:
        raise NotAllowed("a person logged in manages the team, not an API key")
    return user


async def _admin(
    principal: Principal, uow: GatewayUnitOfWork, does: str = "invites people"
) -> User:
    """The creditor's person acting, who must be an admin of its organisation."""
    user = await _person(principal, uow)
    if user.role != TeamRole.ADMIN:
        raise NotAllowed(f"only an admin of your organisation {does}")
    return user


async def is_admin(principal: Principal, uow: GatewayUnitOfWork) -> bool:
    """True when the person acting may invite and withdraw invitations."""
    return (await _person(principal, uow)).role == TeamRole.ADMIN


async def invite(
    principal: Principal,
    email: str,
    role: TeamRole,
    uow: GatewayUnitOfWork,
    now: datetime | None = None,
) -> Sent:
    """A new pending invitation; refused for a member of the team already, or an e-mail with an
    invitation pending (revoke it to send another)."""
    admin = await _admin(principal, uow)
    now = now or utcnow()
    email = normalise_email(email)
    existing = await uow.accounts.user_by_email(email)
    if existing is not None and existing.organisation_id == principal.organisation_id:
        raise Conflict(violations=[Violation("email", "already a member of your team")])
    pending = await uow.team.pending_invitations(principal.organisation_id, now)
    if any(i.email == email for i in pending):
        raise Conflict(
            violations=[
                Violation("email", "an invitation to this address is pending; revoke it first")
            ]
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        invitation_id=new_id(),
        organisation_id=principal.organisation_id,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=admin.user_id,
        created_at=now,
        expires_at=expiry(now),
    )
    await uow.team.add_invitation(invitation)
    return Sent(invitation, token)


async def pending(
    principal: Principal, uow: GatewayUnitOfWork, now: datetime | None = None
) -> list[Invitation]:
    """The organisation's pending invitations, newest first."""
    await _admin(principal, uow)
    return await uow.team.pending_invitations(principal.organisation_id, now or utcnow())


async def members(principal: Principal, uow: GatewayUnitOfWork) -> list[User]:
    """The organisation's people, oldest first (every person of the team may read it)."""
    await _person(principal, uow)
    return await uow.team.members(principal.organisation_id)


async def _teammate(principal: Principal, user_id: str, uow: GatewayUnitOfWork) -> list[User]:
    """The team, locked until the transaction ends (two admins changing each other at once
    cannot both leave it without an admin), after checking the person acting is its admin and
    `user_id` one of its people: NotFound otherwise, whether it is someone else's or nobody."""
    await _admin(principal, uow, "manages its people")
    people = await uow.team.lock_members(principal.organisation_id)
    if not any(person.user_id == user_id for person in people):
        raise NotFound("member: no such person in your team")
    return people


async def change_role(
    principal: Principal, user_id: str, role: TeamRole, uow: GatewayUnitOfWork
) -> User:
    """The person with its new role; refused when it would leave the team without an admin."""
    people = await _teammate(principal, user_id, uow)
    if not keeps_an_admin(people, user_id, role):
        raise Conflict(violations=[Violation("role", LAST_ADMIN)])
    person = next(p for p in people if p.user_id == user_id)
    if person.role != role:
        await uow.team.set_role(principal.organisation_id, user_id, role)
    return replace(person, role=role.value)


async def remove(principal: Principal, user_id: str, uow: GatewayUnitOfWork) -> User:
    """Take a person out of the team: its account is deleted, so its sessions and access
    tokens are refused from the next request on and its e-mail may be invited again. The
    organisation's API keys stay (they belong to it, not to the person). Refused when it would
    leave the team without an admin."""
    people = await _teammate(principal, user_id, uow)
    if not keeps_an_admin(people, user_id, None):
        raise Conflict(violations=[Violation("user_id", LAST_ADMIN)])
    await uow.team.remove_member(principal.organisation_id, user_id)
    return next(p for p in people if p.user_id == user_id)


async def revoke(
    principal: Principal,
    invitation_id: str,
    uow: GatewayUnitOfWork,
    now: datetime | None = None,
) -> None:
    """The link stops opening at once; another organisation's invitation (or one already used,
    revoked or expired) is not found."""
    await _admin(principal, uow)
    if not await uow.team.revoke_invitation(
        principal.organisation_id, invitation_id, now or utcnow()
    ):
        raise NotFound("invitation: no such pending invitation")


async def open_invitation(
    token: str, uow: GatewayUnitOfWork, now: datetime | None = None
) -> Opened:
    """The invitation a link carries, while it may be accepted: NotFound for a link that never
    was one, StateConflict (naming why) for one used, revoked or expired."""
    now = now or utcnow()
    invitation = await uow.team.invitation_by_token_hash(token_hash(token)) if token else None
    if invitation is None:
        raise NotFound(NO_INVITATION)
    if invitation.accepted_at is not None:
        raise StateConflict("invitation: this link was already used; log in instead")
    if invitation.revoked_at is not None:
        raise StateConflict("invitation: this invitation was withdrawn")
    if now >= invitation.expires_at:
        raise StateConflict("invitation: this link has expired; ask for a new one")
    organisation = await uow.accounts.get_organisation(invitation.organisation_id)
    if organisation is None:
        raise NotFound(NO_INVITATION)
    return Opened(invitation, organisation)


async def accept(
    token: str,
    password: str,
    uow: GatewayUnitOfWork,
    passwords: Passwords,
    now: datetime | None = None,
) -> tuple[Principal, User]:
    """Join the organisation as the invited e-mail with this password; the link is then used.
    The e-mail may already have a Recouvra account elsewhere: one e-mail, one organisation."""
    check_password(password)
    now = now or utcnow()
    opened = await open_invitation(token, uow, now)
    invitation = opened.invitation
    if await uow.accounts.user_by_email(invitation.email) is not None:
        raise EmailTaken()
    user = User(
        user_id=new_id(),
        organisation_id=invitation.organisation_id,
        email=invitation.email,
        password_hash=await passwords.hash(password),
        created_at=now,
        role=invitation.role.value,
    )
    if not await uow.team.mark_accepted(invitation.invitation_id, now):
        raise StateConflict("invitation: this link was already used; log in instead")
    if not await uow.accounts.add_user(user):
        raise EmailTaken()
    principal = Principal(
        organisation_id=opened.organisation.organisation_id,
        kind=opened.organisation.kind,
        subject=f"{USER_PREFIX}{user.user_id}",
    )
    return principal, user
