"""Sweeping orphaned ciphertext on fakes: what is quarantined, what stays, every move audited,
and a bucket judged against the wrong database left alone."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from services.vault.tests.unit.fakes import CREDITOR, PDF, FakeVault, minutes, stream
from vault.domain.commands import ShredDocument, StoreDocument
from vault.domain.model import DocumentKind, object_name
from vault.domain.orphans import QUARANTINE_PREFIX, SweepPolicy
from vault.service_layer.deps import utc_now
from vault.service_layer.orphans import sweep_orphans
from vault.service_layer.shredding import shred_document
from vault.service_layer.uploads import store_document

UPLOAD = StoreDocument(CREDITOR, "", "case-1", DocumentKind.INVOICE, "f.pdf", False, "")
CUTOFF = minutes(60)


def orphan(vault: FakeVault, at_minute: int) -> str:
    name = object_name("creditor-1", "case-9", str(uuid.uuid4()), 1)
    vault.store.place(name, b"sealed bytes nobody can open", minutes(at_minute))
    return name


async def with_a_document(vault: FakeVault) -> FakeVault:
    """A vault whose database has one row, stored just before the orphans of these tests."""
    vault.deps.clock = lambda: minutes(5)
    await store_document(UPLOAD, stream(PDF), vault.deps)
    return vault


def quarantined(vault: FakeVault) -> set[str]:
    return {n.removeprefix(QUARANTINE_PREFIX) for n in vault.store.objects if n.startswith("_")}


def outside_quarantine(vault: FakeVault) -> set[str]:
    return {name for name in vault.store.objects if not name.startswith(QUARANTINE_PREFIX)}


async def bucket(vault: FakeVault) -> dict[str, str]:
    """Two live documents, one left by a shredded one, an old and a recent orphan, a stranger."""
    vault.deps.clock = lambda: minutes(5)
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
    assert (report.referenced, report.recent, report.foreign, report.quarantined) == (1, 1, 1, 0)
    assert set(vault.store.objects) == set(names.values())
    assert len(vault.tables.entries) == entries


async def test_old_orphans_and_shred_leftovers_are_quarantined_each_move_audited() -> None:
    vault = FakeVault()
    names = await bucket(vault)
    entries = len(vault.tables.entries)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2)
    assert (report.quarantined, report.failed) == (2, 0)
    assert outside_quarantine(vault) == {names["kept"], names["recent"], names["foreign"]}
    assert quarantined(vault) == {names["old"], names["leftover"]}
    swept = [e.record for e in vault.tables.entries[entries:]]
    assert sorted((r.action, r.outcome, r.document_id, r.actor_subject) for r in swept) == sorted(
        [
            ("orphan-swept", "quarantined", names["old"].split("/")[2], "vault"),
            ("shred-leftover-swept", "quarantined", names["leftover"].split("/")[2], "vault"),
        ]
    )
    assert all(r.detail.endswith(("no document row", "document shredded")) for r in swept)

    again = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2)
    assert (again.scanned, again.quarantined, again.in_quarantine) == (3, 0, 2)


async def test_point_3_quarantined_objects_are_deleted_only_after_the_retention() -> None:
    vault = FakeVault()
    names = await bucket(vault)
    await sweep_orphans(vault.deps, older_than=CUTOFF)
    kept = await sweep_orphans(vault.deps, older_than=CUTOFF, purge_before=minutes(0))
    assert (kept.purged, quarantined(vault)) == (0, {names["old"], names["leftover"]})

    later = utc_now() + timedelta(days=31)
    purged = await sweep_orphans(vault.deps, older_than=CUTOFF, purge_before=later)
    assert (purged.purged, quarantined(vault)) == (2, set())
    assert vault.audit()[-2:] == [("quarantine-purged", "deleted")] * 2


async def test_point_3_against_an_empty_database_nothing_is_moved_or_deleted() -> None:
    vault = FakeVault()
    names = {orphan(vault, minute) for minute in range(0, 50, 2)}
    report = await sweep_orphans(
        vault.deps, older_than=CUTOFF, purge_before=utc_now() + timedelta(days=365)
    )
    assert (report.orphans, report.quarantined, report.purged) == (25, 0, 0)
    assert "no document rows" in (report.refused or "")
    assert set(vault.store.objects) == names
    assert vault.audit() == [("orphan-sweep", "refused")]


async def test_point_3_a_database_far_younger_than_the_bucket_is_not_trusted() -> None:
    vault = FakeVault()
    vault.deps.clock = lambda: minutes(60 * 24 * 7)  # the only row: a week after the objects
    await store_document(UPLOAD, stream(PDF), vault.deps)
    names = {orphan(vault, 10), orphan(vault, 20)}
    report = await sweep_orphans(vault.deps, older_than=minutes(60 * 24 * 8))
    assert "far younger" in (report.refused or "")
    assert names <= set(vault.store.objects)
    assert report.quarantined == 0


async def test_point_3_an_abnormal_share_of_orphans_stops_the_sweep() -> None:
    vault = FakeVault()
    vault.deps.clock = lambda: minutes(5)
    for _ in range(20):
        await store_document(UPLOAD, stream(PDF), vault.deps)
    names = {orphan(vault, 10 + minute) for minute in range(12)}
    report = await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert "12 of 32 objects have no row" in (report.refused or "")
    assert names <= set(vault.store.objects)
    allowed = await sweep_orphans(
        vault.deps, older_than=CUTOFF, policy=SweepPolicy(max_orphan_share=0.5)
    )
    assert allowed.quarantined == 12


async def test_point_3_a_sweep_moves_at_most_its_cap_and_leaves_the_rest_for_the_next() -> None:
    vault = FakeVault()
    vault.deps.clock = lambda: minutes(5)
    await store_document(UPLOAD, stream(PDF), vault.deps)
    for minute in range(5):
        orphan(vault, 10 + minute)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF, policy=SweepPolicy(max_per_run=2))
    assert (report.quarantined, report.left_for_next) == (2, 3)
    assert "left for the next sweep 3" in report.summary()
    assert len(quarantined(vault)) == 2


async def test_objects_the_store_will_not_delete_are_audited_as_failed() -> None:
    vault = await with_a_document(FakeVault())
    stuck = orphan(vault, 10)
    vault.store.refuse.add(stuck)
    report = await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert (report.quarantined, report.failed) == (0, 1)
    assert vault.audit()[1:] == [
        ("orphan-swept", "quarantined"),
        ("orphan-swept", "quarantine-failed"),
    ]


async def test_a_store_failing_mid_sweep_is_audited_then_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    vault = await with_a_document(FakeVault())
    orphan(vault, 10)

    async def store_away(names: object) -> set[str]:
        raise ConnectionError("S3 went away")

    monkeypatch.setattr(vault.store, "quarantine", store_away)
    with pytest.raises(ConnectionError):
        await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert vault.audit()[1:] == [
        ("orphan-swept", "quarantined"),
        ("orphan-swept", "quarantine-failed"),
    ]


async def test_a_sweep_waits_its_turn_while_another_one_runs() -> None:
    vault = FakeVault()
    stray = orphan(vault, 10)
    async with vault.units() as other:
        assert await other.try_sweep_lock()
        report = await sweep_orphans(vault.deps, older_than=CUTOFF)
    assert report.busy
    assert report.scanned == 0
    assert stray in vault.store.objects


async def test_a_stopping_sweep_has_not_seen_the_whole_bucket_and_moves_nothing() -> None:
    vault = FakeVault()
    for _ in range(5):
        orphan(vault, 10)
    pages: list[int] = []

    def stopping() -> bool:
        pages.append(1)
        return len(pages) > 1

    report = await sweep_orphans(vault.deps, older_than=CUTOFF, page_size=2, stopping=stopping)
    assert (report.scanned, report.quarantined, report.stopped) == (2, 0, True)
    assert len(vault.store.objects) == 5
