"""The documents the creditor shares with the debtor, on the portal: listed on the claim page and
downloaded, read from the vault as the case's debtor (the vault's own rule shows a debtor the
shareable documents of its own case under its creditor, nothing else). The case is the one the
session names, never one from the URL: another case's document id answers 404."""

from __future__ import annotations

from typing import Annotated, Any

import grpc
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response, StreamingResponse

from gateway.adapters.portal import as_debtor
from gateway.adapters.vault import NO_DOCUMENT
from gateway.domain.documents import Document
from gateway.entrypoints.api.deps import GatewayServices, Services
from gateway.entrypoints.web.page_deps import page_request
from recouvra_shared.errors import NotFound, PermissionDenied

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])


async def shared_documents(services: GatewayServices, claim: Any) -> list[Document] | None:
    """The documents shared on the claim's case; None when the vault is not wired or does not
    answer (the claim page shows everything else)."""
    if services.vault is None or not claim.creditor_id:
        return None
    debtor = as_debtor(claim.case_id, claim.creditor_id)
    try:
        return await services.vault.documents(debtor, claim.case_id)
    except (grpc.aio.AioRpcError, NotFound):
        return None


@router.get("/portal/documents/{document_id}")
async def download_shared(
    request: Request,
    services: Services,
    document_id: Annotated[str, Path(max_length=64)],
) -> Response:
    """A shared document's bytes, as an attachment."""
    from gateway.entrypoints.web.portal_pages import PORTAL_COOKIE, _ended

    session = request.cookies.get(PORTAL_COOKIE, "")
    if not session or services.portal is None or services.vault is None:
        return _ended(request)
    try:
        claim = await services.portal.claim(session)
    except PermissionDenied:
        return _ended(request)
    if not claim.creditor_id:
        raise NotFound(NO_DOCUMENT)
    download = await services.vault.download(
        as_debtor(claim.case_id, claim.creditor_id), claim.case_id, document_id
    )
    name = "".join(ch for ch in download.document.filename if ch.isalnum() or ch in "._-")
    return StreamingResponse(
        download.content,
        media_type=download.document.content_type,
        headers={
            "Content-Length": str(download.document.size_bytes),
            "Content-Disposition": f'attachment; filename="{name or document_id}"',
            "Cache-Control": "private, no-store",
        },
    )
