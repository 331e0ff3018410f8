"""What callers and facts ask of the vault: small frozen orders, validated by the use cases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from vault.domain.model import Actor, DocumentKind


@dataclass(frozen=True)
class StoreDocument:
    """Store a document's content under a case, as the caller described it (not yet checked)."""

    actor: Actor
    tenant_id: str
    case_id: str
    kind: DocumentKind | None  # None: a kind this vault does not know
    filename: str
    shareable: bool
    sha256_hex: str
    idempotency_key: str = ""  # "": every attempt stores a new document


@dataclass(frozen=True)
class ReadDocument:
    """Open one document's content."""

    actor: Actor
    document_id: str


@dataclass(frozen=True)
class ListDocuments:
    """Describe the documents of a case the caller may see."""

    actor: Actor
    case_id: str


@dataclass(frozen=True)
class ShredDocument:
    """Erase a document for good by destroying its data key."""

    actor: Actor
    document_id: str
    reason: str


@dataclass(frozen=True)
class FactSource:
    """The event an access change comes from, as its audit entry names it."""

    event_id: str
    event_type: str
    producer: str
    tenant_id: str
    case_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class GrantAccess:
    """A provider now works a case: it may read and add the case's documents."""

    case_id: str
    provider_id: str
    round: int
    window_ends_at: datetime | None
    source: FactSource


@dataclass(frozen=True)
class RevokeAccess:
    """A provider no longer works a case (recalled, or rotated away)."""

    case_id: str
    provider_id: str
    source: FactSource


@dataclass(frozen=True)
class CloseCase:
    """A case is closed for good: every grant ends and later assignments are ignored."""

    case_id: str
    source: FactSource


@dataclass(frozen=True)
class ReopenCase:
    """A bank reversal reopened a closed case: it is no longer closed, and when it is back with
    a holder (`provider_id`; "" when it rotates) that holder works it again until its window."""

    case_id: str
    provider_id: str
    round: int
    window_ends_at: datetime | None
    source: FactSource
