"""REST shapes of accounts: organisations, their users, log-in tokens and API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from gateway.domain.model import ApiKey, Organisation
from gateway.schemas.common import TextInput

API_KEY_EXAMPLE: Any = {
    "id": "3e1c4f7a-1c55-4c1e-8f2e-0f1d2b3c4d5e",
    "name": "Billing export",
    "prefix": "rk_live_ab12cd34ef56",
    "scopes": ["read", "write"],
    "created_at": "2026-11-23T10:00:00Z",
    "expires_at": None,
    "revoked_at": None,
}
ORGANISATION_EXAMPLE: Any = {
    "id": "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10",
    "kind": "creditor",
    "name": "Atelier Dupont SARL",
    "siren": "732829320",
    "referrer_id": None,
    "created_at": "2026-11-23T10:00:00Z",
}


class SignUpRequest(TextInput):
    """Open an organisation with its first user."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "organisation_name": "Atelier Dupont SARL",
                    "kind": "creditor",
                    "siren": "732829320",
                    "email": "finance@atelier-dupont.fr",
                    "password": "correct horse battery staple",
                }
            ]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    kind: Literal["creditor", "partner"] = Field(
        default="creditor",
        description="creditor: submits its own cases; partner: billing software creating creditors",
    )
    siren: str | None = Field(default=None, max_length=20, description="French SIREN, 9 digits")
    email: EmailStr
    password: str = Field(min_length=12, max_length=256)


class OrganisationView(BaseModel):
    """An organisation (tenant)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ORGANISATION_EXAMPLE]})

    id: str
    kind: Literal["creditor", "partner"]
    name: str
    siren: str | None
    referrer_id: str | None = Field(description="The partner that referred this creditor")
    created_at: datetime

    @classmethod
    def of(cls, organisation: Organisation) -> OrganisationView:
        """The view of a domain organisation."""
        return cls(
            id=organisation.organisation_id,
            kind=organisation.kind.value,
            name=organisation.name,
            siren=organisation.siren,
            referrer_id=organisation.referrer_id,
            created_at=organisation.created_at,
        )


class SignUpResponse(BaseModel):
    """The new organisation and its first user."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation": ORGANISATION_EXAMPLE,
                    "user_id": "5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
                    "email": "finance@atelier-dupont.fr",
                }
            ]
        }
    )

    organisation: OrganisationView
    user_id: str
    email: str


class TokenRequest(TextInput):
    """Log in with email and password."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"email": "finance@atelier-dupont.fr", "password": "correct horse battery staple"}
            ]
        },
    )

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class TokenResponse(BaseModel):
    """A short-lived access token."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "access_token": "eyJhbGciOiJIUzI1NiIs...",
                    "token_type": "bearer",
                    "expires_in": 900,
                }
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class MeResponse(BaseModel):
    """Who the credentials belong to."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organisation_id": "0d6f8c1e-9f2a-4a8e-8a41-6d3f0f3b9c10",
                    "kind": "creditor",
                    "subject": "user:5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
                }
            ]
        }
    )

    organisation_id: str
    kind: Literal["creditor", "partner", "provider", "operator"]
    subject: str = Field(description="user:<id> or key:<id>")


class ApiKeyRequest(TextInput):
    """Name a new API key; say what it may do and, if it should, when it stops working."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "Billing export"},
                {"name": "Dashboard", "scopes": ["read"], "expires_at": "2027-06-30T00:00:00Z"},
            ]
        },
    )

    name: str = Field(min_length=1, max_length=100)
    scopes: list[Literal["read", "write", "keys"]] | None = Field(
        default=None,
        max_length=3,
        description=(
            "read: GET routes; write: every other route; keys: list, create and revoke API keys."
            " Default read and write. A key cannot grant a scope it does not hold."
        ),
    )
    expires_at: datetime | None = Field(
        default=None, description="When the key stops working (in the future, with a time zone)"
    )


class ApiKeyView(BaseModel):
    """An API key as listed: never its secret."""

    model_config = ConfigDict(json_schema_extra={"examples": [API_KEY_EXAMPLE]})

    id: str
    name: str
    prefix: str = Field(description="Visible start of the key, to recognise it")
    scopes: list[str] = Field(description="What the key may do: read, write, keys")
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyView:
        """The view of a domain key."""
        return cls(
            id=key.key_id,
            name=key.name,
            prefix=key.prefix,
            scopes=list(key.scopes),
            created_at=key.created_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
        )


class NewApiKeyResponse(ApiKeyView):
    """A new API key: `key` is shown in this response only (a replay shows null)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3e1c4f7a-1c55-4c1e-8f2e-0f1d2b3c4d5e",
                    "name": "Billing export",
                    "prefix": "rk_live_ab12cd34ef56",
                    "scopes": ["read", "write"],
                    "created_at": "2026-11-23T10:00:00Z",
                    "expires_at": None,
                    "revoked_at": None,
                    "key": "rk_live_ab12cd34ef56_Q2h5cX...",
                }
            ]
        }
    )

    key: str | None = Field(description="The full key; store it now, it is never shown again")


class ReferredCreditorRequest(TextInput):
    """A partner opens a creditor it refers."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"organisation_name": "Boulangerie Martin", "siren": "552100554"}]
        },
    )

    organisation_name: str = Field(min_length=1, max_length=200)
    siren: str | None = Field(default=None, max_length=20)


class ApiKeyList(BaseModel):
    """The organisation's API keys, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [API_KEY_EXAMPLE]}]})

    items: list[ApiKeyView]


class OrganisationList(BaseModel):
    """Organisations, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [ORGANISATION_EXAMPLE]}]})

    items: list[OrganisationView]
