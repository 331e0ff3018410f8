"""REST shapes of evidence documents, mirroring the vault's contract (proto/recouvra/vault/v1)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from gateway.domain.documents import Document

DocumentKindName = Literal[
    "invoice", "quote-or-terms", "delivery-proof", "correspondence", "court-paper", "other"
]

DOCUMENT_KINDS = frozenset(get_args(DocumentKindName))
DOCUMENT_EXAMPLE: Any = {
    "id": "3f0b6c52-8d1e-4c1a-9b7e-2a6d5c4b3a21",
    "case_id": "7b0e8c9e-2f4d-4b7a-9d51-3c2a1f0e9d8c",
    "kind": "invoice",
    "filename": "F-2026-0042.pdf",
    "content_type": "application/pdf",
    "size_bytes": 48213,
    "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "version": 1,
    "shareable": False,
    "created_at": "2026-11-23T10:00:00Z",
    "shredded_at": None,
    "href": "/v1/cases/7b0e8c9e-2f4d-4b7a-9d51-3c2a1f0e9d8c/documents/"
    "3f0b6c52-8d1e-4c1a-9b7e-2a6d5c4b3a21",
}


class DocumentView(BaseModel):
    """A piece of evidence: what it is, never its content (download it from `href`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [DOCUMENT_EXAMPLE]})

    id: str
    case_id: str
    kind: DocumentKindName | Literal["unspecified"]
    filename: str = Field(description="As uploaded; informative only")
    content_type: str = Field(description="Detected from the bytes, not from the filename")
    size_bytes: int
    sha256: str = Field(description="Hex SHA-256 of the content, checked on every read")
    version: int
    shareable: bool = Field(description="The debtor portal may show it")
    created_at: datetime | None
    shredded_at: datetime | None = Field(
        description="Set once erased (crypto-shredded): the content is gone for good"
    )
    href: str

    @classmethod
    def of(cls, document: Document, href: str) -> DocumentView:
        """The view of a document's description, downloadable at `href`."""
        kind = document.kind if document.kind in DOCUMENT_KINDS else "unspecified"
        return cls(
            id=document.document_id,
            case_id=document.case_id,
            kind=kind,
            filename=document.filename,
            content_type=document.content_type,
            size_bytes=document.size_bytes,
            sha256=document.sha256_hex,
            version=document.version,
            shareable=document.shareable,
            created_at=document.created_at,
            shredded_at=document.shredded_at,
            href=href,
        )


class DocumentList(BaseModel):
    """The documents of a case the caller may see, oldest first."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [DOCUMENT_EXAMPLE]}]})

    items: list[DocumentView]
