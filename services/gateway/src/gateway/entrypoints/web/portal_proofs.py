"""The proof a debtor attaches on the portal (a dispute's evidence, a payment already made):
checked by its bytes (PDF, PNG or JPEG, whatever its name says), limited in size and number,
then stored encrypted in the vault as the case's debtor. The vault keeps it under the case's
creditor (so the creditor and the holder read it with their own rights) and shareable (so the
debtor reads back what it gave); the case is the one the session names, never the browser's."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile

from gateway.adapters.portal import NO_CASE, as_debtor
from gateway.adapters.vault import NewDocument, VaultClient
from recouvra_shared.errors import InvalidField

MIB = 1024 * 1024
MAX_PROOF_BYTES = 10 * MIB
MAX_PROOFS = 5
# The form's other fields and multipart headers, on top of its files.
FORM_SLACK_BYTES = 64 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
ACCEPTED = "application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"


@dataclass(frozen=True)
class Proof:
    """One checked file: its name, type told from its bytes, size and hash."""

    upload: UploadFile
    filename: str
    content_type: str
    size_bytes: int
    sha256_hex: str


def content_type_of(head: bytes) -> str | None:
    """PDF, PNG or JPEG from the first bytes; None for anything else."""
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return None


def proofs_of(actions: Any) -> set[str]:
    """The documents the debtor gave as proof on a claim or a case's debtor actions."""
    ids = {d.proof_document_id for d in actions.declarations}
    for dispute in actions.disputes:
        ids.update(dispute.evidence_document_ids)
    return ids - {""}


def attached(files: list[Any]) -> list[UploadFile]:
    """The files a form really carries (a browser sends an empty part for an empty input)."""
    return [f for f in files if isinstance(f, UploadFile) and (f.filename or f.size)]


async def checked_proofs(
    field: str, files: list[UploadFile], *, required: bool, most: int = MAX_PROOFS
) -> list[Proof]:
    """The files, each a PDF, PNG or JPEG of at most 10 MiB, at most `most`; refused naming
    `field`."""
    if not files:
        if required:
            raise InvalidField(field, "a proof of payment is required")
        return []
    if len(files) > most:
        raise InvalidField(field, "one file" if most == 1 else f"at most {most} files")
    proofs = []
    for upload in files:
        await upload.seek(0)
        hasher, size, head = hashlib.sha256(), 0, b""
        while piece := await upload.read(MIB):
            if not head:
                head = piece[:16]
            size += len(piece)
            if size > MAX_PROOF_BYTES:
                raise InvalidField(field, "each file at most 10 MiB")
            hasher.update(piece)
        if size == 0:
            raise InvalidField(field, "the file is empty")
        content_type = content_type_of(head)
        if content_type is None:
            raise InvalidField(field, "a PDF, JPEG or PNG file")
        name = (upload.filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:255]
        proofs.append(Proof(upload, name, content_type, size, hasher.hexdigest()))
    return proofs


async def _pieces(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while piece := await upload.read(MIB):
        yield piece


async def store_proofs(
    vault: VaultClient, claim: Any, proofs: list[Proof], *, kind: str, key: str
) -> list[str]:
    """Stores each proof in the vault as the claim's debtor; the vault's document ids.

    `key` (one per form shown) makes a double submission store each file once."""
    debtor = as_debtor(claim.case_id, claim.creditor_id)
    stored = []
    for number, proof in enumerate(proofs):
        new = NewDocument(
            case_id=claim.case_id,
            kind=kind,
            filename=proof.filename,
            shareable=True,
            sha256_hex=proof.sha256_hex,
            idempotency_key=f"portal:{key}:{number}" if key else "",
        )
        document = await vault.put_document(debtor, new, _pieces(proof.upload), NO_CASE)
        stored.append(document.document_id)
    return stored
