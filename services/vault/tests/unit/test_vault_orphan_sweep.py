"""Sweeping orphaned ciphertext on fakes: what goes, what stays, and every deletion audited."""

from __future__ import annotations

import uuid

import pytest

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeVault, minutes, stream
from vault.domain.commands import ShredDocument, StoreDocument
from vault.domain.model import DocumentKind, object_name
from vault.service_layer.orphans import sweep_orphans
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document

UPLOAD = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")
CUTOFF = minutes(60)


def orphan(vault: FakeVault, at_minute: int) -> str:
    name = object_name("creditor-1", "case-9", str(uuid.uuid4()), 1)
    vault.store.place(name, b"sealed bytes nobody can open", minutes(at_minute))
    return name


async def bucket(vault: FakeVault) -> dict[str, str]:
    """Two live documents, one left by a shredded one, an old and a recent orphan, a stranger."""
    kept = await store_document(UPLOAD, stream(PDF), vault.deps)
    shredded = await store_document(UPLOAD, stream(PDF), vault.deps)
    await shred_document(ShredDocument(CREDITOR, shredded.document_id, "x"), vault.deps)
    vault.store.place(shredded.object_name, b"unreadable without its key", minutes(0))
    vault.store.place("notes/readme.txt", b"not the vault's", minutes(0))
    return {
        "kept": kept.object_name,
        "leftover": shredded.object_name,
        "old": orphan(vault, 10),
        "recent": orphan(vault, 90),
        "foreign": "notes/readme.txt",
    }


async def test_a_dry_run_reports_and_changes_nothing() -> None:
    vault = FakeVault()
    names = await bucket(vault)
    entries = len(vault.tables.entries)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF, dry_run=True, page_size=2)
    assert (report.scanned, report.orphans, report.shredded_leftovers) == (5, 1, 1)
    assert (report.referenced, report.recent, report.foreign, report.deleted) == (1, 1, 1, 0)
    assert set(vault.store.objects) == set(names.values())
    assert len(vault.tables.entries) == entries


async def test_old_orphans_and_shred_leftovers_go_each_deletion_audited() -> None:
    vault = FakeVault()
    names = await bucket(vault)
    entries = len(vault.tables.entries)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2)
    assert (report.deleted, report.failed) == (2, 0)
    assert set(vault.store.objects) == {names["kept"], names["recent"], names["foreign"]}
    swept = [e.record for e in vault.tables.entries[entries:]]
    assert sorted((r.action, r.outcome, r.document_id, r.actor_subject) for r in swept) == sorted(
        [
            ("orphan-swept", "deleted", names["old"].split("/")[2], "vault"),
            ("shred-leftover-swept", "deleted", names["leftover"].split("/")[2], "vault"),
        ]
    )
    assert all(r.detail.endswith(("no document row", "document shredded")) for r in swept)

    again = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2)
    assert (again.scanned, again.deleted) == (3, 0)


async def test_objects_the_store_will_not_delete_are_audited_as_failed() -> None:
    vault = FakeVault()
    stuck = orphan(vault, 10)
    vault.store.refuse.add(stuck)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert (report.deleted, report.failed) == (0, 1)
    assert vault.audit() == [("orphan-swept", "deleted"), ("orphan-swept", "delete-failed")]


async def test_a_store_failing_mid_sweep_is_audited_then_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = FakeVault()
    orphan(vault, 10)

    async def store_away(names: object) -> set[str]:
        raise ConnectionError("S3 went away")

    monkeypatch.setattr(vault.store, "delete_many", store_away)
    with pytest.raises(ConnectionError):
        await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert vault.audit() == [("orphan-swept", "deleted"), ("orphan-swept", "delete-failed")]


async def test_a_sweep_waits_its_turn_while_another_one_runs() -> None:
    vault = FakeVault()
    stray = orphan(vault, 10)
    async with vault.units() as other:
        assert await other.try_sweep_lock()
        report = await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert report.busy
    assert report.scanned == 0
    assert stray in vault.store.objects


async def test_a_stopping_sweep_finishes_its_page_and_goes_no_further() -> None:
    vault = FakeVault()
    for _ in range(5):
        orphan(vault, 10)
    pages: list[int] = []

    def stopping() -> bool:
        pages.append(1)
        return len(pages) > 1

    report = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2, stopping=stopping)
    assert (report.scanned, report.deleted) == (2, 2)
    assert len(vault.store.objects) == 3
