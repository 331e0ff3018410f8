"""Erasing a document on fakes: the owner destroys its data key; the ciphertext goes too."""

from __future__ import annotations

import pytest

from services.vault.tests.unit.fakes import (
    CREDITOR,
    OPEN_WINDOW,
    PDF,
    FakeVault,
    fact_source,
    stream,
)
from vault.domain.commands import GrantAccess, ShredDocument, StoreDocument
from vault.domain.errors import DocumentNotFound, PermissionDenied
from vault.domain.model import Actor, Document, DocumentKind
from vault.service_layer.grants import grant_access
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document


async def put(vault: FakeVault) -> Document:
    command = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")
    return await store_document(command, stream(PDF), vault.deps)


async def test_the_owner_erases_the_key_and_the_ciphertext_and_it_is_audited() -> None:
    vault = FakeVault()
    stored = await put(vault)
    shredded = await shred_document(
        ShredDocument(CREDITOR, stored.document_id, "GDPR art. 17"), vault.deps
    )
    assert shredded.wrapped_key is None
    assert shredded.shredded_at is not None
    row = vault.tables.documents[stored.document_id]
    assert (row.wrapped_key, row.shredded_at) == (None, shredded.shredded_at)
    assert vault.store.objects == {}
    assert vault.audit() == [("put", "stored"), ("shred", "erased")]
    assert vault.last_entry().detail == "GDPR art. 17"

    again = await shred_document(ShredDocument(CREDITOR, stored.document_id, "twice"), vault.deps)
    assert again.shredded_at == shredded.shredded_at
    assert vault.audit() == [("put", "stored"), ("shred", "erased")]


async def test_only_the_owner_may_erase() -> None:
    vault = FakeVault()
    stored = await put(vault)
    with pytest.raises(DocumentNotFound):
        await shred_document(
            ShredDocument(Actor("creditor", "m", "creditor-2"), stored.document_id, "x"), vault.deps
        )
    async with vault.units() as uow:
        await grant_access(
            GrantAccess("case-1", "p-1", 1, OPEN_WINDOW, fact_source("case-assigned", 1)), uow
        )
        await uow.commit()
    with pytest.raises(PermissionDenied, match="only the owning creditor may erase"):
        await shred_document(
            ShredDocument(Actor("provider", "b", "p-1"), stored.document_id, "x"), vault.deps
        )
    assert vault.tables.documents[stored.document_id].wrapped_key is not None


async def test_a_failed_delete_of_the_ciphertext_leaves_it_for_the_sweeper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = FakeVault()
    stored = await put(vault)

    async def store_away(name: str) -> None:
        raise ConnectionError("S3 went away")

    monkeypatch.setattr(vault.store, "delete", store_away)
    shredded = await shred_document(ShredDocument(CREDITOR, stored.document_id, "x"), vault.deps)
    assert shredded.wrapped_key is None
    assert stored.object_name in vault.store.objects
    assert vault.tables.documents[stored.document_id].wrapped_key is None
