"""Which stored objects the sweeper removes, from their names, their rows and their age."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vault.domain.model import ObjectAddress, object_name, parse_object_name
from vault.domain.orphans import RowRef, StoredObject, SweepReport, Verdict, judge

CUTOFF = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
OLD = CUTOFF - timedelta(minutes=1)
DOC = "7bcb53dc-10b2-4cd1-b920-cc3e77ba35c0"  # fixed: it names parametrized tests
NAME = object_name("creditor-1", "case-1", DOC, 1)


def test_a_vault_object_name_reads_back_into_its_parts() -> None:
    assert parse_object_name(NAME) == ObjectAddress("creditor-1", "case-1", DOC, 1)


@pytest.mark.parametrize(
    "name",
    [
        "notes/readme.txt",
        f"creditor-1/case-1/{DOC}",
        f"creditor-1/case-1/{DOC}/v1/extra",
        f"creditor-1/case-1/{DOC.upper()}/v1",
        f"creditor-1/case-1/{DOC}/v0",
        f"creditor-1/case-1/{DOC}/1",
        "creditor-1/case-1/not-a-uuid/v1",
        f"../case-1/{DOC}/v1",
        f"{'a' * 65}/case-1/{DOC}/v1",
    ],
)
def test_names_the_vault_never_writes_are_not_its_own(name: str) -> None:
    assert parse_object_name(name) is None
    assert judge(StoredObject(name, 10, OLD), {}, CUTOFF) == (Verdict.FOREIGN, None)


def test_an_old_object_without_a_row_is_an_orphan() -> None:
    verdict, address = judge(StoredObject(NAME, 10, OLD), {}, CUTOFF)
    assert verdict is Verdict.ORPHAN
    assert verdict.removable
    assert address is not None
    assert address.document_id == DOC


def test_an_object_younger_than_the_grace_is_kept_even_without_a_row() -> None:
    for at in (CUTOFF, CUTOFF + timedelta(seconds=1)):
        verdict, _ = judge(StoredObject(NAME, 10, at), {}, CUTOFF)
        assert verdict is Verdict.RECENT
        assert not verdict.removable


def test_an_object_its_row_points_to_is_kept_however_old() -> None:
    verdict, _ = judge(StoredObject(NAME, 10, OLD), {DOC: RowRef(NAME, shredded=False)}, CUTOFF)
    assert verdict is Verdict.REFERENCED
    assert not verdict.removable


def test_what_a_shredded_document_left_behind_goes_whatever_its_age() -> None:
    rows = {DOC: RowRef(NAME, shredded=True)}
    for at in (OLD, CUTOFF + timedelta(hours=1)):
        verdict, _ = judge(StoredObject(NAME, 10, at), rows, CUTOFF)
        assert verdict is Verdict.SHREDDED_LEFTOVER
        assert verdict.removable


def test_an_object_its_documents_row_does_not_name_is_an_orphan() -> None:
    other = object_name("creditor-1", "case-1", DOC, 2)
    verdict, _ = judge(StoredObject(other, 10, OLD), {DOC: RowRef(NAME, False)}, CUTOFF)
    assert verdict is Verdict.ORPHAN


def test_the_report_counts_each_verdict_and_says_what_a_dry_run_would_do() -> None:
    report = SweepReport(dry_run=True)
    for verdict in [Verdict.ORPHAN, Verdict.ORPHAN, Verdict.REFERENCED, Verdict.FOREIGN]:
        report.count(StoredObject(NAME, 10, OLD), verdict)
    report.count(StoredObject(NAME, 10, OLD), Verdict.SHREDDED_LEFTOVER)
    report.count(StoredObject(NAME, 10, OLD), Verdict.RECENT)
    assert (report.scanned, report.orphans, report.referenced) == (6, 2, 1)
    assert (report.foreign, report.shredded_leftovers, report.recent) == (1, 1, 1)
    assert report.summary() == (
        "scanned 6 objects: 1 referenced, 2 orphans, 1 left by shredded documents, "
        "1 too recent, 1 not named by the vault; would quarantine 3 (dry run)"
    )
    assert SweepReport(dry_run=False, busy=True).summary().startswith("another sweep is running")
