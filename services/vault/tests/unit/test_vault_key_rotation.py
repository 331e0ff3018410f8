"""Key rotation on fakes: every live data key re-wrapped, objects untouched, each batch audited."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeVault, read_all, stream
from vault.domain.commands import ReadDocument, ShredDocument, StoreDocument
from vault.domain.crypto import KeyRing
from vault.domain.errors import UnknownKey
from vault.domain.model import DocumentKind
from vault.service_layer.key_rotation import retire_old_keys, rewrap_data_keys
from vault.service_layer.reads import open_document
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document

UPLOAD = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")


async def test_every_live_key_is_rewrapped_in_batches_and_documents_stay_readable() -> None:
    vault = FakeVault()
    stored = [await store_document(UPLOAD, stream(PDF + bytes([i])), vault.deps) for i in range(3)]
    erased = await store_document(UPLOAD, stream(PDF), vault.deps)
    await shred_document(ShredDocument(CREDITOR, erased.document_id, "x"), vault.deps)
    objects_before = dict(vault.store.objects)

    rotated = vault.rotate_keys()
    assert await rewrap_data_keys(vault.units, rotated, batch_size=2) == 3
    assert {d.wrapped_key.key_id for d in vault.tables.documents.values() if d.wrapped_key} == {
        "kek-2"
    }
    assert vault.store.objects == objects_before
    rotations = [e.record for e in vault.tables.entries if e.record.action == "key-rotation"]
    assert [(r.outcome, r.actor_subject, r.detail) for r in rotations] == [
        ("rewrapped", "vault", "2 data keys now wrapped by kek-2"),
        ("rewrapped", "vault", "1 data keys now wrapped by kek-2"),
    ]

    vault.deps = replace(vault.deps, keys=rotated)
    for i, document in enumerate(stored):
        _, content = await open_document(ReadDocument(CREDITOR, document.document_id), vault.deps)
        assert await read_all(content) == PDF + bytes([i])
    assert await rewrap_data_keys(vault.units, rotated) == 0


async def test_point_7_after_retirement_a_backup_cannot_unwrap_an_erased_documents_key() -> None:
    vault = FakeVault()
    kept = await store_document(UPLOAD, stream(PDF), vault.deps)
    erased = await store_document(UPLOAD, stream(PDF + b"!"), vault.deps)
    backup = copy.deepcopy(vault.tables.documents)  # last night's dump of the key table
    await shred_document(ShredDocument(CREDITOR, erased.document_id, "GDPR"), vault.deps)

    rotated = vault.rotate_keys()
    destroyed: list[str] = []
    retired = await retire_old_keys(vault.units, rotated, destroyed.extend)
    assert retired == destroyed == ["kek-1"]
    ring = KeyRing({"kek-2": rotated.raw_keys()["kek-2"]}, "kek-2")  # the key source after it

    from_backup = backup[erased.document_id]
    assert from_backup.wrapped_key is not None
    assert from_backup.wrapped_key.key_id == "kek-1"
    with pytest.raises(UnknownKey):
        ring.unwrap(from_backup.wrapped_key, from_backup.identity)
    vault.deps = replace(vault.deps, keys=ring)
    _, content = await open_document(ReadDocument(CREDITOR, kept.document_id), vault.deps)
    assert await read_all(content) == PDF
    assert ("key-retirement", "retired") in vault.audit()


async def test_point_7_a_key_still_wrapping_a_live_data_key_is_not_destroyed() -> None:
    vault = FakeVault()
    await store_document(UPLOAD, stream(PDF), vault.deps)
    rotated = vault.rotate_keys()

    async def nothing_rewrapped(*_: object, **__: object) -> int:
        return 0

    destroyed: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("vault.service_layer.key_rotation.rewrap_data_keys", nothing_rewrapped)
        assert await retire_old_keys(vault.units, rotated, destroyed.extend) == []
    assert destroyed == []
    assert vault.audit()[-1] == ("key-retirement", "partial")
