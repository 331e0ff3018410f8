"""Keeps what was sent in the vault as evidence (PutDocument, calling as messaging).

The vault must admit messaging (its `SERVICES_WITH_EVERY_DOCUMENT`): messaging stores under the
case's creditor, with the message id as the idempotency key, so a retried dispatch stores the
same document once.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator

import grpc

from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.grpc_status import refusal_of

CHUNK = 256 * 1024


class VaultEvidence:
    """`EvidenceStore` on the vault."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = vault_pb2_grpc.VaultServiceStub(channel)

    async def keep_pdf(
        self, *, case_id: str, creditor_id: str, message_id: str, filename: str, pdf: bytes
    ) -> str:
        """Store the PDF as correspondence of the case; returns the vault's document id."""
        metadata = vault_pb2.DocumentMetadata(
            case_id=case_id,
            tenant_id=creditor_id,
            kind=vault_pb2.DOCUMENT_KIND_CORRESPONDENCE,
            filename=filename,
            shareable=True,  # the debtor may see the letter it was sent
            sha256_hex=hashlib.sha256(pdf).hexdigest(),
            idempotency_key=f"messaging:{message_id}",
        )

        async def parts() -> AsyncIterator[vault_pb2.PutDocumentRequest]:
            yield vault_pb2.PutDocumentRequest(metadata=metadata)
            for start in range(0, len(pdf), CHUNK):
                yield vault_pb2.PutDocumentRequest(chunk=pdf[start : start + CHUNK])

        try:
            document = await self.stub.PutDocument(parts(), timeout=30)
        except grpc.aio.AioRpcError as error:
            refusal = refusal_of(error)
            if refusal is not None:
                raise refusal from error
            raise
        return str(document.document_id)
