"""Operators: the platform's staff. What they may do, the decisions they take on providers, and
the trail each of their actions leaves (who, what, on what, when)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from gateway.domain.errors import InvalidField, NotAllowed, NotFound
from gateway.domain.model import Organisation, OrganisationKind, Principal, Vetting

MAX_REASON = 1000
# The organisation every operator belongs to: one, made by the first `operators create`.
OPERATORS_ORGANISATION = "Recouvra operators"


class OperatorAction(StrEnum):
    """What the audit trail records."""

    OPERATOR_CREATED = "operator-created"
    PROVIDER_APPROVED = "provider-approved"
    PROVIDER_REJECTED = "provider-rejected"
    # Reads too: what an operator looked at (providers' files, the trail itself) is on record.
    PROVIDERS_READ = "providers-read"
    AUDIT_READ = "audit-read"


@dataclass(frozen=True)
class AuditEntry:
    """One operator action: who (`actor`, a user or key, or `cli:` for the command line), what,
    on which organisation or user, when, and why."""

    entry_id: str
    actor: str
    action: OperatorAction
    target: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)


class FlagRule(StrEnum):
    """Why a provider's file needs an operator's eyes."""

    SIREN_CLAIMED_AGAIN = "siren-claimed-again"
    SIREN_NOT_IN_REGISTRY = "siren-not-in-registry"
    NAME_DIFFERS_FROM_REGISTRY = "name-differs-from-registry"


@dataclass(frozen=True)
class VettingFlag:
    """Something about an organisation operators should look at before (or after) approving."""

    flag_id: str
    organisation_id: str
    rule: FlagRule
    detail: str
    raised_at: datetime


def check_operator(principal: Principal) -> None:
    """Only an operator's credentials reach the operator routes."""
    if principal.kind is not OrganisationKind.OPERATOR:
        raise NotAllowed("only operators do this")


def reason_given(reason: str, field_name: str = "reason") -> str:
    """A trimmed reason of sensible length (a rejection must say why)."""
    reason = reason.strip()
    if not reason:
        raise InvalidField(field_name, "is required: say why, the provider will be told")
    if len(reason) > MAX_REASON:
        raise InvalidField(field_name, f"must be at most {MAX_REASON} characters")
    return reason


def vetted(organisation: Organisation | None, decision: Vetting) -> Organisation:
    """The provider after an operator's decision. Approving or rejecting again changes nothing;
    a rejected provider may be approved later, an approved one rejected (suspended)."""
    if organisation is None or organisation.kind is not OrganisationKind.PROVIDER:
        raise NotFound("provider: no such provider")
    if decision is Vetting.PENDING:
        raise InvalidField("decision", "must be approved or rejected")
    return replace(organisation, vetting=decision)


def names_differ(declared: str, registered: str) -> bool:
    """True when the registry's name is not found in the declared one, ignoring case and
    punctuation ("SARL", accents and the like are the operator's to judge)."""

    def plain(text: str) -> str:
        return "".join(c for c in text.casefold() if c.isalnum())

    return plain(registered) not in plain(declared)
