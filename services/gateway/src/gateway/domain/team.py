"""A creditor's team: who may invite (an admin), and the invitations a person opens once, before
they expire, to join the same organisation with a password of their own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from gateway.domain.model import User

INVITATION_DAYS = 7


class TeamRole(StrEnum):
    """An admin invites and revokes invitations; a member does everything else a creditor's
    person does (cases, quotes, keys, webhooks). Every user made before roles is an admin: each
    was the one who opened its organisation."""

    ADMIN = "admin"
    MEMBER = "member"


@dataclass(frozen=True)
class Invitation:
    """An invitation to join an organisation; only the hash of its link's token is kept."""

    invitation_id: str
    organisation_id: str
    email: str
    role: TeamRole
    token_hash: str
    invited_by: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    def pending(self, now: datetime) -> bool:
        """Neither used, revoked nor expired."""
        return self.accepted_at is None and self.revoked_at is None and now < self.expires_at


def expiry(now: datetime) -> datetime:
    """When an invitation made now stops opening."""
    return now + timedelta(days=INVITATION_DAYS)


LAST_ADMIN = "your team keeps at least one admin: make another person admin first"


def keeps_an_admin(people: Sequence[User], user_id: str, role_after: TeamRole | None) -> bool:
    """Whether the team still has an admin once the person `user_id` has `role_after` (None:
    once removed). A team left without an admin could never invite or remove anyone again."""
    return any(
        (role_after if person.user_id == user_id else person.role) == TeamRole.ADMIN
        for person in people
    )
