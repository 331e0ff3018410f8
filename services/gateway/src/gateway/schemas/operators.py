"""REST shapes of the operators' routes: providers to vet with their flags, decisions, the audit
trail; and a creditor's profile."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.domain.model import Organisation
from gateway.domain.operators import AuditEntry, VettingFlag
from gateway.schemas.common import TextInput

VettingState = Literal["pending", "approved", "rejected"]

PROVIDER_TO_VET_EXAMPLE: Any = {
    "id": "9a3e1f2b-7c4d-4e5f-8a6b-1c2d3e4f5a6b",
    "name": "Etude Lambert",
    "siren": "443061841",
    "vetting": "pending",
    "created_at": "2026-12-03T10:00:00Z",
    "flags": [
        {
            "rule": "siren-not-in-registry",
            "detail": "SIREN 443061841 is not registered",
            "raised_at": "2026-12-03T10:00:00Z",
        }
    ],
}
AUDIT_ENTRY_EXAMPLE: Any = {
    "id": "1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e",
    "actor": "user:5b8f7a52-2d0e-4d4c-9a0a-0a4f2a51c3de",
    "action": "provider-approved",
    "target": "organisation:9a3e1f2b-7c4d-4e5f-8a6b-1c2d3e4f5a6b",
    "at": "2026-12-03T11:00:00Z",
    "detail": {"reason": "Kbis checked", "siren": "443061841"},
}


class FlagView(BaseModel):
    """Something an operator should look at before (or after) approving."""

    rule: Literal["siren-claimed-again", "siren-not-in-registry", "name-differs-from-registry"]
    detail: str
    raised_at: datetime

    @classmethod
    def of(cls, flag: VettingFlag) -> FlagView:
        """The view of a domain flag."""
        return cls(rule=flag.rule.value, detail=flag.detail, raised_at=flag.raised_at)


class ProviderToVet(BaseModel):
    """A provider account as operators vet it."""

    id: str
    name: str
    siren: str
    vetting: VettingState
    created_at: datetime
    flags: list[FlagView]

    @classmethod
    def of(cls, provider: Organisation, flags: list[VettingFlag]) -> ProviderToVet:
        """The view of a provider organisation and its flags."""
        return cls(
            id=provider.organisation_id,
            name=provider.name,
            siren=provider.siren or "",
            vetting=(provider.vetting.value if provider.vetting else "pending"),
            created_at=provider.created_at,
            flags=[FlagView.of(flag) for flag in flags],
        )


class ProvidersToVet(BaseModel):
    """Provider accounts, oldest first."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [PROVIDER_TO_VET_EXAMPLE]}]}
    )

    items: list[ProviderToVet]


class DecisionRequest(TextInput):
    """Why an operator decides so (required to reject: the provider is told)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "SIREN and Kbis checked"}]},
    )

    reason: str = Field(default="", max_length=1000)


class DecisionView(BaseModel):
    """A provider after an operator's decision."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "9a3e1f2b-7c4d-4e5f-8a6b-1c2d3e4f5a6b", "vetting": "approved"}]
        }
    )

    id: str
    vetting: VettingState


class AuditEntryView(BaseModel):
    """One operator action: who, what, on what, when."""

    id: str
    actor: str = Field(description="user:<id> or key:<id> of the operator, cli:<name>")
    action: Literal[
        "operator-created", "provider-approved", "provider-rejected", "providers-read", "audit-read"
    ]
    target: str
    at: datetime
    detail: dict[str, Any]

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryView:
        """The view of a domain audit entry."""
        return cls(
            id=entry.entry_id,
            actor=entry.actor,
            action=entry.action.value,
            target=entry.target,
            at=entry.at,
            detail=entry.detail,
        )


class AuditTrail(BaseModel):
    """The latest operator actions, newest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [AUDIT_ENTRY_EXAMPLE]}]})

    items: list[AuditEntryView]


class ProfileRequest(TextInput):
    """A creditor adds or corrects its SIREN (and, if it wants, its name)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"siren": "732829320"}]},
    )

    siren: str = Field(min_length=1, max_length=20, description="French SIREN, 9 digits")
    organisation_name: str | None = Field(default=None, min_length=1, max_length=200)
