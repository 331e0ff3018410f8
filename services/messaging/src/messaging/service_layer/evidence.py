"""Documents named in a request (a dispute's evidence, a payment's proof, a thread message's
attachments) must be in the vault, as documents of that very case and its creditor."""

from __future__ import annotations

from messaging.service_layer.thread_ports import CaseDocumentsSource
from recouvra_shared.errors import InvalidField


async def check_case_documents(
    source: CaseDocumentsSource,
    *,
    case_id: str,
    creditor_id: str,
    document_ids: tuple[str, ...],
    field: str,
    shareable: bool = False,
) -> None:
    """Refused naming `field` unless every id is a live document of the case in the vault (and,
    when `shareable`, one the debtor may read)."""
    if not document_ids:
        return
    known = {document.document_id: document for document in await source.documents_of(case_id)}
    for document_id in document_ids:
        document = known.get(document_id)
        if document is None or document.shredded or document.tenant_id != creditor_id:
            raise InvalidField(field, f"{document_id}: not a document of this case in the vault")
        if shareable and not document.shareable:
            raise InvalidField(
                field, f"{document_id}: not shareable with the debtor (mark it in the vault)"
            )
