"""The audit chain's use cases on fakes: a signed head on demand, and the verifier's verdict."""

from __future__ import annotations

from dataclasses import replace

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeVault, stream
from vault.domain.commands import StoreDocument
from vault.domain.model import DocumentKind
from vault.service_layer.audit import sign_audit_head, verify_audit
from vault.service_layer.uploads import store_document

UPLOAD = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")


async def test_a_checkpoint_every_n_entries_and_one_at_the_head_on_demand() -> None:
    vault = FakeVault(checkpoint_every=3)
    assert await sign_audit_head(vault.units) is None
    for _ in range(4):
        await store_document(UPLOAD, stream(PDF), vault.deps)
    assert sorted(vault.tables.checkpoints) == [3]
    assert await sign_audit_head(vault.units) == 4
    assert sorted(vault.tables.checkpoints) == [3, 4]

    report = await verify_audit(vault.units, vault.signing_key.public_key())
    assert (report.ok, report.entries, report.checkpoints) == (True, 4, 2)


async def test_an_edited_entry_is_named_by_the_verifier() -> None:
    vault = FakeVault()
    for _ in range(3):
        await store_document(UPLOAD, stream(PDF), vault.deps)
    second = vault.tables.entries[1]
    vault.tables.entries[1] = replace(second, record=replace(second.record, actor_subject="x"))
    report = await verify_audit(vault.units, vault.signing_key.public_key())
    assert (report.first_bad_seq, report.problem) == (2, "entry 2 was edited")
