"""The vault's gRPC API as the gateway uses it: kinds by REST name, refusals by REST field."""

from __future__ import annotations

import grpc

from gateway.domain.errors import (
    DocumentCorrupted,
    DocumentErased,
    InvalidField,
    NotAllowed,
    NotFound,
)
from recouvra.vault.v1 import vault_pb2

# The REST names of the kinds of evidence, and the vault's enum values.
KINDS: dict[str, int] = {
    "invoice": vault_pb2.DOCUMENT_KIND_INVOICE,
    "quote-or-terms": vault_pb2.DOCUMENT_KIND_QUOTE_OR_TERMS,
    "delivery-proof": vault_pb2.DOCUMENT_KIND_DELIVERY_PROOF,
    "correspondence": vault_pb2.DOCUMENT_KIND_CORRESPONDENCE,
    "court-paper": vault_pb2.DOCUMENT_KIND_COURT_PAPER,
    "other": vault_pb2.DOCUMENT_KIND_OTHER,
}
KIND_NAMES = {number: name for name, number in KINDS.items()}

# The vault's field names, as the multipart form names them.
FIELDS = {
    "metadata.kind": "kind",
    "metadata.filename": "file",
    "metadata.sha256_hex": "sha256",
    "metadata.case_id": "case_id",
    "content": "file",
    "document_id": "document_id",
}


def refusal(exc: grpc.aio.AioRpcError, not_found: str) -> Exception:
    """The vault's status as the gateway's refusal; UNAVAILABLE and the like are returned
    unchanged for the problem handler (503 with Retry-After)."""
    code = exc.code()
    details = exc.details() or ""
    if code is grpc.StatusCode.NOT_FOUND:
        # One fixed message: the vault's own words could tell a missing document from a hidden one.
        return NotFound(not_found)
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        field, sep, rule = details.partition(": ")
        if not sep:
            return InvalidField("file", details)
        return InvalidField(FIELDS.get(field, field), rule)
    if code is grpc.StatusCode.FAILED_PRECONDITION:
        return DocumentErased(details.partition(": ")[2] or details)
    if code is grpc.StatusCode.DATA_LOSS:
        return DocumentCorrupted(details)
    if code is grpc.StatusCode.PERMISSION_DENIED:
        return NotAllowed(details.partition(": ")[2] or details)
    unchanged: Exception = exc
    return unchanged
