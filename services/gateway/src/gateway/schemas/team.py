"""A creditor's team invitations, as the REST API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from gateway.domain.model import User
from gateway.domain.team import Invitation, TeamRole
from gateway.schemas.common import TextInput

INVITATION_EXAMPLE: Any = {
    "id": "2b7c9e1a-5d3f-4a8b-9c6e-1f2a3b4c5d6e",
    "email": "compta@atelier-dupont.fr",
    "role": "member",
    "created_at": "2026-12-04T09:30:00Z",
    "expires_at": "2026-12-11T09:30:00Z",
}
LINK_EXAMPLE = "https://app.recouvra.fr/invitations/q3VxY0l0cGZ2U2t6Tm1hR0RrU0lqV2hQ"


class InvitationRequest(TextInput):
    """Invite a person to your team by e-mail, with a role."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"email": "compta@atelier-dupont.fr", "role": "member"}]},
    )

    email: EmailStr
    role: Literal["admin", "member"] = Field(
        default="member", description="admin: may invite others too; member: everything else"
    )


class InvitationView(BaseModel):
    """A pending invitation (never its link)."""

    model_config = ConfigDict(json_schema_extra={"examples": [INVITATION_EXAMPLE]})

    id: str
    email: str
    role: Literal["admin", "member"]
    created_at: datetime
    expires_at: datetime = Field(description="The link opens until then, once")

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationView:
        """From the domain's invitation."""
        return cls(
            id=invitation.invitation_id,
            email=invitation.email,
            role=invitation.role.value,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )


class InvitationSent(InvitationView):
    """A new invitation with its link, shown in this answer only: pass it on to the person
    (Recouvra keeps only a hash of it and sends no e-mail yet)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [INVITATION_EXAMPLE | {"link": LINK_EXAMPLE}]}
    )

    link: str | None = Field(
        examples=[LINK_EXAMPLE], description="null when the request is replayed"
    )


class InvitationList(BaseModel):
    """Your pending invitations, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [INVITATION_EXAMPLE]}]})

    items: list[InvitationView]


class InvitationAcceptance(TextInput):
    """Join the team the invitation names, with a password of your own."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"token": LINK_EXAMPLE.rsplit("/", 1)[1], "password": "a long passphrase"}]
        },
    )

    token: str = Field(min_length=1, max_length=100, description="The last part of the link")
    password: str = Field(min_length=12, max_length=256)


class Joined(BaseModel):
    """The account just opened in the team: log in with its e-mail and password."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "9d1c2b3a-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                    "user_id": "6f5e4d3c-2b1a-4c0d-9e8f-7a6b5c4d3e2f",
                    "email": "compta@atelier-dupont.fr",
                    "role": "member",
                }
            ]
        }
    )

    organisation_id: str
    user_id: str
    email: str
    role: Literal["admin", "member"]


MEMBER_EXAMPLE: Any = {
    "user_id": "6f5e4d3c-2b1a-4c0d-9e8f-7a6b5c4d3e2f",
    "email": "compta@atelier-dupont.fr",
    "role": "member",
    "since": "2026-12-04T09:30:00Z",
}


class MemberView(BaseModel):
    """A person of your team."""

    model_config = ConfigDict(json_schema_extra={"examples": [MEMBER_EXAMPLE]})

    user_id: str
    email: str
    role: Literal["admin", "member"]
    since: datetime = Field(description="When the person joined")

    @classmethod
    def of(cls, user: User) -> MemberView:
        """From the domain's user."""
        return cls(
            user_id=user.user_id,
            email=user.email,
            role="member" if user.role == TeamRole.MEMBER else "admin",
            since=user.created_at,
        )


class MemberList(BaseModel):
    """Your team's people, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [MEMBER_EXAMPLE]}]})

    items: list[MemberView]


class RoleChange(TextInput):
    """A person's new role in your team."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "admin"}]})

    role: Literal["admin", "member"] = Field(
        description="admin: may invite, change roles and remove people; member: everything else"
    )
