"""Evidence as the gateway describes it: what the vault stores about a document, never its bytes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Document:
    """A piece of evidence of a case; `kind` is its REST name ("invoice", ...)."""

    document_id: str
    case_id: str
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256_hex: str
    version: int
    shareable: bool
    created_at: datetime | None
    shredded_at: datetime | None
