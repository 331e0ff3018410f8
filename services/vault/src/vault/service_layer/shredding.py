"""Erasing a document for good (a data-subject request): its data key is destroyed."""

from __future__ import annotations

import logging
from dataclasses import replace

from vault.domain.commands import ShredDocument
from vault.domain.errors import PermissionDenied
from vault.domain.model import Document, may_shred
from vault.service_layer.audit import entry
from vault.service_layer.deps import VaultDeps
from vault.service_layer.reads import visible_document

log = logging.getLogger(__name__)


async def shred_document(command: ShredDocument, deps: VaultDeps) -> Document:
    """Destroy a document's data key for good, then drop its ciphertext."""
    actor, document_id = command.actor, command.document_id
    async with deps.units() as uow:
        document = await visible_document(uow, actor, document_id, deps.clock())
        if not may_shred(actor, document):
            raise PermissionDenied("document_id: only the owning creditor may erase a document")
        locked = await uow.documents.get(document_id, for_update=True)
        assert locked is not None
        document = locked
        if document.shredded_at is not None:
            return document
        at = deps.clock()
        await uow.documents.shred(document_id, at)
        await uow.audit.append(
            entry(
                "shred",
                "erased",
                actor,
                tenant_id=document.tenant_id,
                case_id=document.case_id,
                document_id=document_id,
                detail=command.reason,
            )
        )
        await uow.commit()
    try:
        await deps.store.delete(document.object_name)
    except Exception:  # the key is gone: what is left in the store can never be read again
        log.warning("could not delete the ciphertext of shredded %s", document_id, exc_info=True)
    return replace(document, wrapped_key=None, shredded_at=at)
