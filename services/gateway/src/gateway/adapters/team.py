"""A creditor's team in PostgreSQL: its people and the invitations sent to join it."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.adapters.orm import invitations, users
from gateway.domain.model import User
from gateway.domain.team import Invitation, TeamRole


def _invitation(row: RowMapping) -> Invitation:
    return Invitation(**{**row, "role": TeamRole(row["role"])})


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _still_pending(now: datetime) -> object:
    return (
        invitations.c.accepted_at.is_(None)
        & invitations.c.revoked_at.is_(None)
        & (invitations.c.expires_at > now)
    )


class SqlTeam:
    """Invitations and members, always within one organisation but for the link's owner."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_invitation(self, invitation: Invitation) -> None:
        """Store a new invitation."""
        await self.session.execute(
            invitations.insert().values(**{**asdict(invitation), "role": invitation.role.value})
        )

    async def invitation_by_token_hash(self, token_hash: str) -> Invitation | None:
        """The invitation whose link carries this token, whatever its state; locked until the
        transaction ends, so that one link is used once even when opened twice at once."""
        row = (
            (
                await self.session.execute(
                    select(invitations)
                    .where(invitations.c.token_hash == token_hash)
                    .with_for_update()
                )
            )
            .mappings()
            .first()
        )
        return _invitation(row) if row else None

    async def pending_invitations(self, organisation_id: str, now: datetime) -> list[Invitation]:
        """The organisation's invitations neither used, revoked nor expired, newest first."""
        rows = (
            await self.session.execute(
                select(invitations)
                .where((invitations.c.organisation_id == organisation_id) & _still_pending(now))
                .order_by(invitations.c.created_at.desc())
            )
        ).mappings()
        return [_invitation(row) for row in rows]

    async def revoke_invitation(
        self, organisation_id: str, invitation_id: str, now: datetime
    ) -> bool:
        """Revoke the organisation's pending invitation; False when it has no such one."""
        if not _is_uuid(invitation_id):
            return False
        result = await self.session.execute(
            update(invitations)
            .where(
                (invitations.c.organisation_id == organisation_id)
                & (invitations.c.invitation_id == invitation_id)
                & _still_pending(now)
            )
            .values(revoked_at=now)
            .returning(invitations.c.invitation_id)
        )
        return result.first() is not None

    async def mark_accepted(self, invitation_id: str, now: datetime) -> bool:
        """Use the invitation; False when it was used, revoked or had expired."""
        result = await self.session.execute(
            update(invitations)
            .where((invitations.c.invitation_id == invitation_id) & _still_pending(now))
            .values(accepted_at=now)
            .returning(invitations.c.invitation_id)
        )
        return result.first() is not None

    async def members(self, organisation_id: str) -> list[User]:
        """The organisation's people, oldest first."""
        rows = (
            await self.session.execute(
                select(users)
                .where(users.c.organisation_id == organisation_id)
                .order_by(users.c.created_at)
            )
        ).mappings()
        return [User(**row) for row in rows]

    async def lock_members(self, organisation_id: str) -> list[User]:
        """The organisation's people, oldest first, locked until the transaction ends."""
        rows = (
            await self.session.execute(
                select(users)
                .where(users.c.organisation_id == organisation_id)
                .order_by(users.c.created_at)
                .with_for_update()
            )
        ).mappings()
        return [User(**row) for row in rows]

    async def set_role(self, organisation_id: str, user_id: str, role: TeamRole) -> None:
        """Give the organisation's person this role."""
        await self.session.execute(
            update(users)
            .where((users.c.organisation_id == organisation_id) & (users.c.user_id == user_id))
            .values(role=role.value)
        )

    async def remove_member(self, organisation_id: str, user_id: str) -> None:
        """Delete the organisation's person (its account)."""
        await self.session.execute(
            delete(users).where(
                (users.c.organisation_id == organisation_id) & (users.c.user_id == user_id)
            )
        )
