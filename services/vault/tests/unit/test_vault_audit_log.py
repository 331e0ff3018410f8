"""The audit chain's use cases on fakes: a signed head on demand, and the verifier's verdict."""

from __future__ import annotations

from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeAnchor, FakeVault, stream
from vault.domain.commands import StoreDocument
from vault.domain.model import DocumentKind
from vault.service_layer.audit import (
    anchor_checkpoints,
    checkpoint_and_anchor,
    record,
    service_entry,
    sign_audit_head,
    verify_audit,
)
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


async def anchored_vault(entries: int) -> tuple[FakeVault, FakeAnchor]:
    """A vault with `entries` audit entries, a checkpoint every 3, each anchored outside."""
    vault, anchor = FakeVault(checkpoint_every=3), FakeAnchor()
    for _ in range(entries):
        await record(vault.units, service_entry("test", "done", "an entry"))
    await checkpoint_and_anchor(vault.units, anchor)
    return vault, anchor


async def verify(vault: FakeVault, anchor: FakeAnchor) -> tuple[int | None, str]:
    report = await verify_audit(vault.units, vault.signing_key.public_key(), anchor)
    return report.first_bad_seq, report.problem


async def test_point_6_every_checkpoint_is_anchored_and_an_intact_chain_verifies() -> None:
    vault, anchor = await anchored_vault(7)
    assert [c.seq for c in anchor.kept] == [3, 6, 7]
    assert await anchor_checkpoints(vault.units, anchor) == 0
    report = await verify_audit(vault.units, vault.signing_key.public_key(), anchor)
    assert (report.ok, report.entries, report.checkpoints, report.anchored) == (True, 7, 3, 3)


async def test_point_6_a_rollback_of_the_last_entries_and_their_checkpoints_is_caught() -> None:
    vault, anchor = await anchored_vault(7)
    # What passed before: the tail and its checkpoints removed, leaving a consistent chain.
    del vault.tables.entries[4:]
    for seq in (6, 7):
        del vault.tables.checkpoints[seq]
    assert (await verify_audit(vault.units, vault.signing_key.public_key())).ok
    assert await verify(vault, anchor) == (
        5,
        "entries 5 to 7 were removed: the chain ends at entry 4 but a checkpoint at entry 7 "
        "was anchored",
    )


async def test_point_6_a_deleted_database_checkpoint_is_caught() -> None:
    vault, anchor = await anchored_vault(7)
    del vault.tables.checkpoints[3]
    assert await verify(vault, anchor) == (3, "checkpoint at entry 3 was deleted from the database")


async def test_point_6_a_deleted_entry_is_caught() -> None:
    vault, anchor = await anchored_vault(7)
    del vault.tables.entries[1]
    assert await verify(vault, anchor) == (2, "entry 2 was removed")


async def test_point_6_reordered_entries_are_caught() -> None:
    vault, anchor = await anchored_vault(7)
    entries = vault.tables.entries
    entries[3], entries[4] = replace(entries[4], seq=4), replace(entries[3], seq=5)
    first_bad, problem = await verify(vault, anchor)
    assert first_bad == 4
    assert "out of order" in problem or "does not follow" in problem


async def test_point_6_a_rewritten_chain_re_signed_with_another_key_is_caught() -> None:
    vault, anchor = await anchored_vault(7)
    pinned = vault.signing_key.public_key()
    # Whoever rewrites the whole database with a key of their own: the anchors still disagree.
    vault.signing_key = Ed25519PrivateKey.generate()
    vault.tables = replace(vault.tables, entries=[], checkpoints={})
    for _ in range(7):
        await record(vault.units, service_entry("test", "done", "rewritten"))
    await sign_audit_head(vault.units)
    report = await verify_audit(vault.units, pinned, anchor)
    assert report.first_bad_seq == 3
    assert report.problem in {
        "checkpoint at entry 3 is forged",
        "entries up to 3 were rewritten after being anchored",
    }
    forged = FakeAnchor()
    forged.kept = [replace(anchor.kept[0], signature=bytes(64))]
    report = await verify_audit(vault.units, pinned, forged)
    assert report.problem == "anchored checkpoint at entry 3 is forged"
