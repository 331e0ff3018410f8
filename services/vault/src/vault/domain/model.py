"""Documents, callers and who may see what."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vault.domain.crypto import DocumentIdentity, WrappedKey
from vault.domain.errors import InvalidField

MAX_ID_LENGTH = 64
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^v[1-9][0-9]*$")


class DocumentKind(StrEnum):
    """What a piece of evidence is."""

    INVOICE = "invoice"
    QUOTE_OR_TERMS = "quote_or_terms"
    DELIVERY_PROOF = "delivery_proof"
    CORRESPONDENCE = "correspondence"
    COURT_PAPER = "court_paper"
    OTHER = "other"


class CallerKind(StrEnum):
    """The kinds of caller the gateway names."""

    CREDITOR = "creditor"
    PROVIDER = "provider"
    DEBTOR = "debtor"
    SERVICE = "service"


@dataclass(frozen=True)
class Actor:
    """The caller of one request, as the access rules see it."""

    kind: str
    subject: str
    tenant_id: str


@dataclass(frozen=True)
class Document:
    """A stored document's description and key material (never its content)."""

    document_id: str
    tenant_id: str
    case_id: str
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: bytes
    version: int
    shareable: bool
    filename: str
    object_name: str
    wrapped_key: WrappedKey | None
    created_at: datetime
    shredded_at: datetime | None = None
    # The caller's key, scoped to the caller, when the upload carried one.
    idempotency_key: str | None = None

    @property
    def identity(self) -> DocumentIdentity:
        """What its ciphertext and wrapped key are bound to."""
        return DocumentIdentity(self.tenant_id, self.case_id, self.document_id, self.version)


@dataclass(frozen=True)
class NewDocument:
    """A validated upload request (before any byte is stored)."""

    tenant_id: str
    case_id: str
    kind: DocumentKind
    filename: str
    shareable: bool
    expected_sha256: bytes | None
    idempotency_key: str | None = None


MAX_FILENAME_LENGTH = 255
MAX_IDEMPOTENCY_KEY_LENGTH = 128
_IDEMPOTENCY_KEY = re.compile(r"^[!-~]+$")


def scoped_idempotency_key(actor: Actor, key: str) -> str | None:
    """The caller's key as stored: one caller's key never answers another caller's upload."""
    if not key:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not _IDEMPOTENCY_KEY.match(key):
        raise InvalidField(
            "metadata.idempotency_key",
            f"at most {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, no spaces",
        )
    return f"{actor.kind}/{actor.tenant_id}/{actor.subject}/{key}"


def new_document(
    *,
    tenant_id: str,
    case_id: str,
    kind: DocumentKind | None,
    filename: str,
    shareable: bool,
    sha256_hex: str,
) -> NewDocument:
    """An upload's description, checked field by field before any byte is stored."""
    if kind is None:
        raise InvalidField(
            "metadata.kind", "must be one of " + ", ".join(k.value for k in DocumentKind)
        )
    if len(filename) > MAX_FILENAME_LENGTH:
        raise InvalidField("metadata.filename", f"at most {MAX_FILENAME_LENGTH} characters")
    return NewDocument(
        tenant_id=tenant_id,
        case_id=check_id("metadata.case_id", case_id),
        kind=kind,
        filename=filename,
        shareable=shareable,
        expected_sha256=parse_sha256_hex("metadata.sha256_hex", sha256_hex),
    )


def check_id(field: str, value: str) -> str:
    """An identifier as the vault stores it; InvalidField naming the rule otherwise."""
    if not value or len(value) > MAX_ID_LENGTH or not _ID.match(value):
        raise InvalidField(
            field,
            f"must be 1 to {MAX_ID_LENGTH} letters, digits or . _ : - "
            "and start with a letter or digit",
        )
    return value


def parse_sha256_hex(field: str, value: str) -> bytes | None:
    """An optional lowercase hex SHA-256."""
    if not value:
        return None
    if not _SHA256_HEX.match(value):
        raise InvalidField(field, "must be 64 lowercase hexadecimal characters")
    return bytes.fromhex(value)


def object_name(tenant_id: str, case_id: str, document_id: str, version: int) -> str:
    """Where a document's ciphertext lives in the bucket."""
    return f"{tenant_id}/{case_id}/{document_id}/v{version}"


@dataclass(frozen=True)
class ObjectAddress:
    """Whose document an object name says it holds."""

    tenant_id: str
    case_id: str
    document_id: str
    version: int


def parse_object_name(name: str) -> ObjectAddress | None:
    """The parts of a name `object_name` could have made; None for any other name."""
    parts = name.split("/")
    if len(parts) != 4:
        return None
    tenant_id, case_id, document_id, version = parts
    for part in (tenant_id, case_id):
        if len(part) > MAX_ID_LENGTH or not _ID.match(part):
            return None
    try:
        canonical = str(uuid.UUID(document_id))
    except ValueError:
        return None
    if canonical != document_id or not _VERSION.match(version):
        return None
    return ObjectAddress(tenant_id, case_id, document_id, int(version[1:]))


def upload_scope(actor: Actor, case_id: str, requested_tenant: str) -> str | None:
    """The tenant a new document of `case_id` belongs to, or None when the caller may not add one.

    A provider's tenant is decided by its grant (looked up by the caller), so it answers "".
    A debtor (the portal, for the one case its session names) adds its proof under the case's
    creditor, as the creditor's documents of that case are.
    """
    if actor.kind == CallerKind.CREDITOR and actor.tenant_id:
        return actor.tenant_id
    if actor.kind == CallerKind.SERVICE:
        return check_id("metadata.tenant_id", requested_tenant)
    if actor.kind == CallerKind.PROVIDER and actor.tenant_id:
        return ""
    if actor.kind == CallerKind.DEBTOR and actor.tenant_id and actor.subject == case_id:
        return actor.tenant_id  # the portal's debtor adds proof to its own case only
    return None


@dataclass(frozen=True)
class CaseGrant:
    """One provider's live grant on a case, as the latest assignment fact left it."""

    provider_id: str
    tenant_id: str
    round: int
    as_of: datetime
    window_ends_at: datetime | None


def tenant_granted(grants: list[CaseGrant], provider_id: str, at: datetime) -> str | None:
    """The creditor whose case `provider_id` may work at `at`, from the case's live grants.

    Checked at each access, so access fails closed when a revocation never arrived: the grant
    ends with its window (a grant without one is not trusted), and only the latest holder of
    the case holds it (a later assignment to another provider ends this one's).
    """
    mine = [grant for grant in grants if grant.provider_id == provider_id]
    if not mine:
        return None
    holder = max(grants, key=lambda grant: (grant.as_of, grant.round))
    grant = mine[0]
    if holder.provider_id != provider_id:
        return None
    if grant.window_ends_at is None or at >= grant.window_ends_at:
        return None
    return grant.tenant_id


def may_read(actor: Actor, document: Document, provider_has_grant: bool) -> bool:
    """The access rule: owner creditor always, assigned provider, debtor portal if shareable."""
    if actor.kind == CallerKind.SERVICE:
        return True
    if actor.kind == CallerKind.CREDITOR:
        return bool(actor.tenant_id) and actor.tenant_id == document.tenant_id
    if actor.kind == CallerKind.PROVIDER:
        return provider_has_grant
    if actor.kind == CallerKind.DEBTOR:
        return (
            document.shareable
            and actor.subject == document.case_id
            and actor.tenant_id == document.tenant_id
        )
    return False


def may_shred(actor: Actor, document: Document) -> bool:
    """Erasure is the owner creditor's alone (through the gateway, for a data-subject request
    too): no service erases evidence, so a compromised one cannot destroy a case's proof."""
    return (
        actor.kind == CallerKind.CREDITOR
        and bool(actor.tenant_id)
        and actor.tenant_id == document.tenant_id
    )
