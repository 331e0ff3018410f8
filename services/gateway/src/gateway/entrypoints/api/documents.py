"""Evidence: REST doors to the vault for the creditor of a case and the provider holding it now.

Bytes are never held whole: an upload is spooled to disk by the multipart parser and streamed
to the vault in 1 MiB messages; a download is streamed back as the vault decrypts it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Callable
from pathlib import PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Path, Query, UploadFile, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import AfterValidator

from gateway.adapters.vault import NO_CASE, NO_DOCUMENT, NewDocument, VaultClient
from gateway.domain.errors import InvalidField, NotFound, TooLarge
from gateway.entrypoints.api.deps import CaseId, CurrentCaller, CurrentProvider, Intake, Vault
from gateway.entrypoints.api.idempotency import Idempotent, IdempotentPost, Outcome, respond
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.common import plain_text
from gateway.schemas.documents import DocumentKindName, DocumentList, DocumentView
from recouvra_shared.context import Caller
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

creditor_router = APIRouter(
    prefix="/v1/cases", tags=["documents"], responses=problem_responses(401, 403, 422)
)
provider_router = APIRouter(
    prefix="/v1/provider/assignments", tags=["documents"], responses=problem_responses(401, 403)
)

MIB = 1024 * 1024
MAX_DOCUMENT_BYTES = 25 * MIB
# Room for the multipart envelope and the form fields around the file itself.
MULTIPART_SLACK_BYTES = 64 * 1024
# Hashed piece by piece, as the vault is sent it: at most 1 MiB per message.
CHUNK_BYTES = MIB
MAX_FILENAME_CHARACTERS = 255
NO_HELD_CASE = "case: no such case held by you"
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "application/xml": ".xml",
}
_UNSAFE_IN_QUOTED_NAME = re.compile(r"[^A-Za-z0-9._ ()+,-]")

DocumentId = Annotated[
    str,
    Path(max_length=64, description="The document id", examples=["3f0b6c52-8d1e-4c1a-9b7e"]),
    AfterValidator(plain_text),
]
FileField = Annotated[
    UploadFile,
    File(description="PDF, PNG, JPEG or XML (the type is detected from the bytes), <= 25 MiB"),
]
KindField = Annotated[DocumentKindName, Form(description="What this evidence is")]
ShareableField = Annotated[
    bool, Form(description="The debtor portal may show it to the debtor (default: no)")
]
Sha256Field = Annotated[
    str | None,
    Form(
        pattern=r"^[0-9a-fA-F]{64}$",
        description="Optional hex SHA-256 of the file: refused when the bytes hash differently",
    ),
]
UPLOAD_RESPONSES = problem_responses(401, 403, 404, 409, 413, 422, 503)
DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The document's bytes, with Content-Type (detected at upload), "
        "Content-Length and Content-Disposition: attachment with the filename",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in EXTENSIONS
        },
    },
    **problem_responses(401, 403, 404, 410, 422, 502, 503),
}


def _checked_filename(upload: UploadFile) -> str:
    filename = upload.filename or ""
    if len(filename) > MAX_FILENAME_CHARACTERS:
        raise InvalidField("file", f"its filename must be at most {MAX_FILENAME_CHARACTERS} long")
    if has_control_characters(filename):
        raise InvalidField("file", f"its filename {CONTROL_CHARACTERS_RULE}")
    return filename


def _too_large() -> TooLarge:
    return TooLarge("file", f"must be at most {MAX_DOCUMENT_BYTES // MIB} MiB")


async def _sha256_of(upload: UploadFile) -> str:
    """Hash the spooled upload piece by piece, enforcing the size limit."""
    if upload.size is not None and upload.size > MAX_DOCUMENT_BYTES:
        raise _too_large()
    hasher = hashlib.sha256()
    size = 0
    while piece := await upload.read(CHUNK_BYTES):
        size += len(piece)
        if size > MAX_DOCUMENT_BYTES:
            raise _too_large()
        hasher.update(piece)
    if size == 0:
        raise InvalidField("file", "must not be empty")
    return hasher.hexdigest()


async def _pieces(upload: UploadFile) -> AsyncIterator[bytes]:
    await upload.seek(0)
    while piece := await upload.read(CHUNK_BYTES):
        yield piece


async def _upload(
    vault: VaultClient,
    once: IdempotentPost,
    caller: Caller,
    owner: str,
    *,
    case_id: str,
    upload: UploadFile,
    kind: str,
    shareable: bool,
    sha256: str | None,
    href: Callable[[str], str],
    not_found: str,
) -> JSONResponse:
    """Store one document in the vault, once per Idempotency-Key.

    The content's hash is taken first, from the spooled file: it makes the request's
    fingerprint (a retry with other bytes under the same key is refused), and the vault checks
    the bytes it receives against it.
    """
    filename = _checked_filename(upload)
    digest = await _sha256_of(upload)
    if sha256 is not None and sha256.lower() != digest:
        raise InvalidField("sha256", "does not match the SHA-256 of the uploaded file")
    new = NewDocument(
        case_id=case_id,
        kind=kind,
        filename=filename,
        shareable=shareable,
        sha256_hex=digest,
        idempotency_key=once.key,
    )
    asked = {"kind": kind, "shareable": shareable, "filename": filename, "sha256": digest}

    # No transaction is open while the upload streams: the vault keeps the key with the document.
    async def store() -> Outcome:
        stored = await vault.put_document(caller, new, _pieces(upload), not_found)
        view = DocumentView.of(stored, href(stored.document_id))
        return Outcome(status.HTTP_201_CREATED, view.model_dump(mode="json"))

    answer = await once.forward(owner, asked, store)
    return respond(answer, {"Location": str(answer.body["href"])})


async def _list(
    vault: VaultClient, caller: Caller, case_id: str, href: Callable[[str], str]
) -> DocumentList:
    documents = await vault.documents(caller, case_id)
    return DocumentList(items=[DocumentView.of(d, href(d.document_id)) for d in documents])


def content_disposition(filename: str, fallback: str) -> str:
    """`attachment` with the filename stripped of any path, quoted safely for old clients and
    in full (RFC 6266 / 8187) for the others."""
    name = PurePosixPath(filename.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip() or fallback
    plain = _UNSAFE_IN_QUOTED_NAME.sub("_", name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


async def _download(
    vault: VaultClient, caller: Caller, case_id: str, document_id: str
) -> StreamingResponse:
    """Stream a document back as the vault decrypts it."""
    download = await vault.download(caller, case_id, document_id)
    document = download.document
    fallback = document.document_id + EXTENSIONS.get(document.content_type, "")
    return StreamingResponse(
        download.content,
        media_type=document.content_type,
        headers={
            "Content-Length": str(document.size_bytes),
            "Content-Disposition": content_disposition(document.filename, fallback),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{document.sha256_hex}"',
        },
    )


# --- the creditor (or a partner acting for it) -------------------------------------------------


def _creditor_href(case_id: str) -> Callable[[str], str]:
    return lambda document_id: f"/v1/cases/{case_id}/documents/{document_id}"


@creditor_router.post(
    "/{case_id}/documents",
    max_body_size=MAX_DOCUMENT_BYTES + MULTIPART_SLACK_BYTES,
    summary="Attach evidence to a case (invoice, signed terms, delivery proof, letters)",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentView,
    responses=UPLOAD_RESPONSES,
)
async def upload_document(
    case_id: CaseId,
    file: FileField,
    kind: KindField,
    caller: CurrentCaller,
    intake: Intake,
    vault: Vault,
    once: Idempotent,
    shareable: ShareableField = False,
    sha256: Sha256Field = None,
) -> JSONResponse:
    """Encrypted in the vault with a key of its own; readable by you and by the provider
    holding the case now. Only PDF, PNG, JPEG and XML are accepted, told from the bytes."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    return await _upload(
        vault,
        once,
        caller.as_creditor,
        caller.principal.organisation_id,
        case_id=case_id,
        upload=file,
        kind=kind,
        shareable=shareable,
        sha256=sha256,
        href=_creditor_href(case_id),
        not_found=NO_CASE,
    )


@creditor_router.get(
    "/{case_id}/documents",
    summary="The evidence of a case, oldest first (erased documents show when)",
    response_model=DocumentList,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def list_documents(
    case_id: CaseId, caller: CurrentCaller, intake: Intake, vault: Vault
) -> DocumentList:
    """Another creditor's case is 404, exactly like a case that does not exist."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    return await _list(vault, caller.as_creditor, case_id, _creditor_href(case_id))


@creditor_router.get(
    "/{case_id}/documents/{document_id}",
    summary="Download a document of a case",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def download_document(
    case_id: CaseId, document_id: DocumentId, caller: CurrentCaller, intake: Intake, vault: Vault
) -> StreamingResponse:
    """The vault checks the content against the SHA-256 recorded at upload (the ETag); 410
    once erased, 502 if the stored bytes were altered."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    return await _download(vault, caller.as_creditor, case_id, document_id)


@creditor_router.delete(
    "/{case_id}/documents/{document_id}",
    summary="Erase a document for good (crypto-shredding)",
    response_model=DocumentView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def shred_document(
    case_id: CaseId,
    document_id: DocumentId,
    caller: CurrentCaller,
    intake: Intake,
    vault: Vault,
    reason: Annotated[
        str,
        Query(max_length=500, description="Why, for the audit log (e.g. a GDPR request)"),
        AfterValidator(plain_text),
    ] = "",
) -> DocumentView:
    """Its data key is destroyed: nobody, the platform included, can read it again. The
    description stays, with `shredded_at`; erasing it again changes nothing."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    creditor = caller.as_creditor
    listed = await vault.documents(creditor, case_id)
    if all(document.document_id != document_id for document in listed):
        raise NotFound(NO_DOCUMENT)
    shredded = await vault.shred_document(creditor, document_id, reason or "erased by the creditor")
    return DocumentView.of(shredded, _creditor_href(case_id)(document_id))


# --- the provider holding the case now ---------------------------------------------------------


def _provider_href(case_id: str) -> Callable[[str], str]:
    return lambda document_id: f"/v1/provider/assignments/{case_id}/documents/{document_id}"


@provider_router.post(
    "/{case_id}/documents",
    max_body_size=MAX_DOCUMENT_BYTES + MULTIPART_SLACK_BYTES,
    summary="Add evidence to a case you hold (letters sent, the debtor's answers, court papers)",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentView,
    responses=UPLOAD_RESPONSES,
)
async def provider_upload_document(
    case_id: CaseId,
    file: FileField,
    kind: KindField,
    provider: CurrentProvider,
    vault: Vault,
    once: Idempotent,
    shareable: ShareableField = False,
    sha256: Sha256Field = None,
) -> JSONResponse:
    """Stored for the case's creditor, who sees it too. 404 for a case you do not hold now,
    exactly like one that does not exist."""
    return await _upload(
        vault,
        once,
        provider.caller,
        provider.provider_id,
        case_id=case_id,
        upload=file,
        kind=kind,
        shareable=shareable,
        sha256=sha256,
        href=_provider_href(case_id),
        not_found=NO_HELD_CASE,
    )


@provider_router.get(
    "/{case_id}/documents",
    summary="The evidence of a case you hold now",
    response_model=DocumentList,
    responses=problem_responses(401, 403, 422, 503),
)
async def provider_list_documents(
    case_id: CaseId, provider: CurrentProvider, vault: Vault
) -> DocumentList:
    """Empty for a case you do not hold (or no longer hold), exactly as for one without
    documents: access ends the moment the case is recalled or rotates."""
    return await _list(vault, provider.caller, case_id, _provider_href(case_id))


@provider_router.get(
    "/{case_id}/documents/{document_id}",
    summary="Download a document of a case you hold now",
    response_class=StreamingResponse,
    responses=DOWNLOAD_RESPONSES,
)
async def provider_download_document(
    case_id: CaseId, document_id: DocumentId, provider: CurrentProvider, vault: Vault
) -> StreamingResponse:
    """404 for a case you do not hold now, exactly like a document that does not exist."""
    return await _download(vault, provider.caller, case_id, document_id)
