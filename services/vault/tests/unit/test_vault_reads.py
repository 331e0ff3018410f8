"""Reading and listing on fakes: only what the caller may see, every attempt audited."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest

from services.vault.tests.unit.fakes import (
    CREDITOR,
    OPEN_WINDOW,
    PDF,
    FakeVault,
    fact_source,
    minutes,
    read_all,
    stream,
)
from vault.domain.commands import (
    GrantAccess,
    ListDocuments,
    ReadDocument,
    ShredDocument,
    StoreDocument,
)
from vault.domain.errors import DecryptionFailed, DocumentNotFound, DocumentShredded, IntegrityError
from vault.domain.model import Actor, Document, DocumentKind
from vault.service_layer.grants import grant_access
from vault.service_layer.reads import list_documents, open_document
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document

OTHER_CREDITOR = Actor("creditor", "mallory", "creditor-2")
PROVIDER = Actor("provider", "bob", "provider-9")
DEBTOR = Actor("debtor", "case-1", "creditor-1")


async def put(vault: FakeVault, *, shareable: bool = False, case_id: str = "case-1") -> Document:
    command = StoreDocument(CREDITOR, "", case_id, DocumentKind.INVOICE, "f.pdf", shareable, "")
    return await store_document(command, stream(PDF), vault.deps)


async def reads(vault: FakeVault, actor: Actor, document_id: str) -> bool:
    try:
        _, content = await open_document(ReadDocument(actor, document_id), vault.deps)
    except DocumentNotFound:
        return False
    assert await read_all(content) == PDF
    return True


async def test_the_owner_reads_and_others_are_told_it_does_not_exist() -> None:
    vault = FakeVault()
    private = await put(vault)
    assert await reads(vault, CREDITOR, private.document_id)
    assert not await reads(vault, OTHER_CREDITOR, private.document_id)
    assert not await reads(vault, CREDITOR, str(uuid.uuid4()))
    assert not await reads(vault, CREDITOR, "not-a-uuid")
    assert vault.audit()[1:] == [
        ("get", "granted"),
        ("get", "refused"),
        ("get", "refused"),
        ("get", "refused"),
    ]
    refused = vault.tables.entries[2].record
    assert (refused.actor_subject, refused.document_id) == ("mallory", private.document_id)
    assert refused.detail == "document_id: no such document"


async def test_a_provider_reads_while_it_works_the_case_and_the_portal_only_shareable() -> None:
    vault = FakeVault()
    private = await put(vault)
    shareable = await put(vault, shareable=True)
    assert not await reads(vault, PROVIDER, private.document_id)
    assert not await reads(vault, DEBTOR, private.document_id)
    assert await reads(vault, DEBTOR, shareable.document_id)
    async with vault.units() as uow:
        command = GrantAccess(
            "case-1", "provider-9", 1, OPEN_WINDOW, fact_source("case-assigned", 1)
        )
        await grant_access(command, uow)
        await uow.commit()
    assert await reads(vault, PROVIDER, private.document_id)
    assert not await reads(vault, replace(PROVIDER, tenant_id="provider-8"), private.document_id)


async def test_a_shredded_document_says_so_and_the_attempt_is_audited() -> None:
    vault = FakeVault()
    stored = await put(vault)
    await shred_document(ShredDocument(CREDITOR, stored.document_id, "GDPR"), vault.deps)
    with pytest.raises(DocumentShredded, match=r"crypto-shredded\) on \d{4}-\d\d-\d\d; its"):
        await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    assert vault.audit() == [("put", "stored"), ("shred", "erased"), ("get", "shredded")]


async def test_altered_ciphertext_fails_the_read_and_the_failure_is_audited() -> None:
    vault = FakeVault()
    stored = await put(vault)
    sealed = bytearray(vault.store.read(stored.object_name))
    sealed[len(sealed) // 2] ^= 0x01
    vault.store.objects[stored.object_name] = (
        bytes(sealed),
        vault.store.objects[stored.object_name][1],
    )

    _, content = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    with pytest.raises(DecryptionFailed):
        await read_all(content)
    assert vault.audit() == [("put", "stored"), ("get", "granted"), ("get", "integrity-failure")]
    assert vault.last_entry().document_id == stored.document_id


async def test_content_that_decrypts_but_hashes_differently_fails_the_read() -> None:
    vault = FakeVault()
    stored = await put(vault)
    vault.tables.documents[stored.document_id] = replace(stored, sha256=b"\x00" * 32)
    _, content = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    with pytest.raises(IntegrityError, match="does not match the SHA-256 recorded at upload"):
        await read_all(content)
    assert vault.audit()[-1] == ("get", "integrity-failure")


async def test_a_content_that_hashes_differently_never_hands_out_its_last_chunk() -> None:
    vault = FakeVault(chunk_size=64)
    command = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")
    content = PDF + bytes(range(256)) * 3
    stored = await store_document(command, stream(content), vault.deps)
    vault.tables.documents[stored.document_id] = replace(stored, sha256=b"\x00" * 32)
    _, plaintext = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    received: list[bytes] = []

    async def receive() -> None:
        async for piece in plaintext:
            received.append(piece)

    with pytest.raises(IntegrityError):
        await receive()
    final_chunk = (len(content) - 1) % 64 + 1
    assert b"".join(received) == content[:-final_chunk]


async def test_a_reader_that_stops_early_stops_the_reading_behind_it() -> None:
    vault = FakeVault(chunk_size=64)
    command = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")
    stored = await store_document(command, stream(PDF + bytes(64 * 40)), vault.deps)
    _, plaintext = await open_document(ReadDocument(CREDITOR, stored.document_id), vault.deps)
    assert len(await anext(plaintext)) == 64
    before = {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}
    assert before, "the reading ahead runs as its own task"
    await plaintext.aclose()  # type: ignore[attr-defined]
    assert all(task.done() for task in before)


async def test_a_listing_shows_what_the_caller_may_see_and_is_audited() -> None:
    vault = FakeVault()
    first = await put(vault)
    await put(vault, case_id="case-2")
    shown = await list_documents(ListDocuments(CREDITOR, "case-1"), vault.deps)
    assert [d.document_id for d in shown] == [first.document_id]
    assert await list_documents(ListDocuments(OTHER_CREDITOR, "case-1"), vault.deps) == []
    assert await list_documents(ListDocuments(PROVIDER, "case-1"), vault.deps) == []
    listed = [e.record for e in vault.tables.entries if e.record.action == "list"]
    assert [(r.actor_subject, r.tenant_id, r.case_id, r.detail) for r in listed] == [
        ("alice", "creditor-1", "case-1", "documents shown: 1; caller tenant creditor-1"),
        ("mallory", "", "case-1", "documents shown: 0; caller tenant creditor-2"),
        ("bob", "", "case-1", "documents shown: 0; caller tenant provider-9"),
    ]


async def assign(vault: FakeVault, provider: str, at_minute: int, window_end: int) -> None:
    """Matching's assignment of case-1 to `provider`, its window ending `window_end` after T0."""
    async with vault.units() as uow:
        fact = fact_source("case-assigned", at_minute)
        await grant_access(GrantAccess("case-1", provider, 1, minutes(window_end), fact), uow)
        await uow.commit()


async def test_point_8_a_read_after_the_window_end_is_refused_though_no_revoke_arrived() -> None:
    vault = FakeVault()
    stored = await put(vault)
    await assign(vault, PROVIDER.tenant_id, 1, window_end=60)
    vault.deps.clock = lambda: minutes(59)
    assert await reads(vault, PROVIDER, stored.document_id)
    assert await list_documents(ListDocuments(PROVIDER, "case-1"), vault.deps)

    vault.deps.clock = lambda: minutes(60)
    assert not await reads(vault, PROVIDER, stored.document_id)
    assert await list_documents(ListDocuments(PROVIDER, "case-1"), vault.deps) == []
    upload = StoreDocument(PROVIDER, "", "case-1", DocumentKind.INVOICE, "late.pdf", False, "")
    with pytest.raises(DocumentNotFound):
        await store_document(upload, stream(PDF), vault.deps)
    assert vault.audit()[-3:] == [("get", "refused"), ("list", "listed"), ("put", "refused")]


async def test_point_8_a_rotation_whose_revoke_was_lost_still_ends_the_old_holders_access() -> None:
    vault = FakeVault()
    stored = await put(vault)
    await assign(vault, PROVIDER.tenant_id, 1, window_end=600)
    # The rotation away from provider-9 went to the dead-letter topic; the next holder's
    # assignment arrived.
    await assign(vault, "provider-7", 10, window_end=600)
    vault.deps.clock = lambda: minutes(20)
    assert not await reads(vault, PROVIDER, stored.document_id)
    assert await reads(vault, replace(PROVIDER, tenant_id="provider-7"), stored.document_id)


async def test_point_8_a_grant_without_a_window_end_is_not_trusted() -> None:
    vault = FakeVault()
    stored = await put(vault)
    async with vault.units() as uow:
        fact = fact_source("case-assigned", 1)
        await grant_access(GrantAccess("case-1", PROVIDER.tenant_id, 1, None, fact), uow)
        await uow.commit()
    assert not await reads(vault, PROVIDER, stored.document_id)
