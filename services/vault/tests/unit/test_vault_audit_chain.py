"""The audit chain verifier names the first edited, removed or reordered entry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vault.domain.audit import (
    GENESIS_HASH,
    AuditEntry,
    AuditRecord,
    entry_digest,
    sign_checkpoint,
    verify_chain,
)

KEY = Ed25519PrivateKey.generate()
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def chain(n: int) -> list[AuditEntry]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        record = AuditRecord("get", "granted", "creditor", "c-1", "c-1", "case-1", f"d-{seq}", "")
        at = START + timedelta(seconds=seq)
        digest = entry_digest(prev, at, record)
        entries.append(AuditEntry(seq, at, record, prev, digest))
        prev = digest
    return entries


def test_an_untouched_chain_verifies() -> None:
    entries = chain(10)
    checkpoint = sign_checkpoint(KEY, 5, entries[4].entry_hash)
    report = verify_chain(entries, [checkpoint], KEY.public_key())
    assert report.ok
    assert report.entries == 10
    assert report.checkpoints == 1


def test_an_edited_entry_is_named() -> None:
    entries = chain(10)
    entries[3] = replace(entries[3], record=replace(entries[3].record, outcome="refused"))
    report = verify_chain(entries, [], KEY.public_key())
    assert report.first_bad_seq == 4
    assert "edited" in report.problem


def test_an_edited_and_rehashed_entry_is_caught_by_the_next_link() -> None:
    entries = chain(10)
    forged = replace(entries[3].record, actor_subject="someone-else")
    entries[3] = replace(
        entries[3],
        record=forged,
        entry_hash=entry_digest(entries[3].prev_hash, entries[3].at, forged),
    )
    report = verify_chain(entries, [], KEY.public_key())
    assert report.first_bad_seq == 5


def test_a_removed_entry_is_named() -> None:
    entries = chain(10)
    del entries[6]
    report = verify_chain(entries, [], KEY.public_key())
    assert report.first_bad_seq == 7
    assert "removed" in report.problem


def test_removed_tail_is_caught_by_a_checkpoint() -> None:
    entries = chain(10)
    checkpoint = sign_checkpoint(KEY, 10, entries[9].entry_hash)
    report = verify_chain(entries[:8], [checkpoint], KEY.public_key())
    assert report.first_bad_seq == 9
    assert "removed" in report.problem


def test_swapped_entries_are_named() -> None:
    entries = chain(10)
    a, b = entries[4], entries[5]
    entries[4], entries[5] = replace(b, seq=5), replace(a, seq=6)
    report = verify_chain(entries, [], KEY.public_key())
    assert report.first_bad_seq == 5
    assert "out of order" in report.problem


def test_a_consistently_rewritten_tail_is_caught_by_the_signed_checkpoint() -> None:
    original = chain(10)
    checkpoint = sign_checkpoint(KEY, 10, original[9].entry_hash)
    rewritten, prev = original[:4], original[3].entry_hash
    for entry in original[4:]:
        record = replace(entry.record, detail="nothing to see")
        digest = entry_digest(prev, entry.at, record)
        rewritten.append(replace(entry, record=record, prev_hash=prev, entry_hash=digest))
        prev = digest
    report = verify_chain(rewritten, [checkpoint], KEY.public_key())
    assert report.first_bad_seq == 10
    assert "rewritten" in report.problem


def test_a_forged_checkpoint_is_refused() -> None:
    entries = chain(4)
    forged = sign_checkpoint(Ed25519PrivateKey.generate(), 4, entries[3].entry_hash)
    report = verify_chain(entries, [forged], KEY.public_key())
    assert report.first_bad_seq == 4
    assert "forged" in report.problem
