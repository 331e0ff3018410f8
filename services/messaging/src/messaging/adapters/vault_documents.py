"""The vault's documents of a case (ListDocuments, calling as messaging, which may list every
document: the vault's `SERVICES_WITH_EVERY_DOCUMENT`)."""

from __future__ import annotations

import grpc

from messaging.service_layer.thread_ports import CaseDocument
from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc
from recouvra_shared.grpc_status import refusal_of


class VaultDocuments:
    """`CaseDocumentsSource` on the vault."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.stub = vault_pb2_grpc.VaultServiceStub(channel)

    async def documents_of(self, case_id: str) -> list[CaseDocument]:
        try:
            answer = await self.stub.ListDocuments(
                vault_pb2.ListDocumentsRequest(case_id=case_id), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            refusal = refusal_of(error)
            if refusal is not None:
                raise refusal from error
            raise
        return [
            CaseDocument(
                document_id=d.document_id,
                tenant_id=d.tenant_id,
                shredded=d.HasField("shredded_at"),
                shareable=d.shareable,
            )
            for d in answer.documents
        ]
