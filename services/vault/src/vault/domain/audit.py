"""The audit chain: each entry carries the hash of the previous one; checkpoints are signed.

Editing an entry breaks its own hash; removing or reordering entries breaks the link of the
entry that follows; rewriting the whole tail consistently is caught by the signed checkpoints.
Checkpoints stored next to the entries can be deleted with them (a rollback), so each one is
also anchored outside the database (a write-once bucket): an anchored checkpoint the database
no longer matches names the truncation. Only entries appended after the last anchored
checkpoint can be cut off without a trace.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS_HASH = bytes(32)
_CHECKPOINT_LABEL = b"recouvra-vault-audit-checkpoint\x00"


@dataclass(frozen=True)
class AuditRecord:
    """What happened, to whom, by whom: the content an entry hashes."""

    action: str
    outcome: str
    actor_kind: str
    actor_subject: str
    tenant_id: str
    case_id: str
    document_id: str
    detail: str


@dataclass(frozen=True)
class AuditEntry:
    """One stored link of the chain."""

    seq: int
    at: datetime
    record: AuditRecord
    prev_hash: bytes
    entry_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signature over the chain up to entry `seq`."""

    seq: int
    entry_hash: bytes
    signature: bytes


def entry_digest(prev_hash: bytes, at: datetime, record: AuditRecord) -> bytes:
    """SHA-256 of the previous hash and the canonical JSON of this entry's content."""
    content = {
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "action": record.action,
        "outcome": record.outcome,
        "actor_kind": record.actor_kind,
        "actor_subject": record.actor_subject,
        "tenant_id": record.tenant_id,
        "case_id": record.case_id,
        "document_id": record.document_id,
        "detail": record.detail,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(prev_hash + canonical).digest()


def checkpoint_message(seq: int, entry_hash: bytes) -> bytes:
    """The bytes a checkpoint signs."""
    return _CHECKPOINT_LABEL + struct.pack(">Q", seq) + entry_hash


def sign_checkpoint(key: Ed25519PrivateKey, seq: int, entry_hash: bytes) -> Checkpoint:
    """A checkpoint over the chain up to `seq`."""
    return Checkpoint(seq, entry_hash, key.sign(checkpoint_message(seq, entry_hash)))


@dataclass(frozen=True)
class VerifyReport:
    """The verifier's answer: ok, or the first entry that is wrong and why."""

    entries: int
    checkpoints: int
    first_bad_seq: int | None = None
    problem: str = ""
    anchored: int = 0

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def _anchor_problems(
    entries: Sequence[AuditEntry],
    checkpoints: Sequence[Checkpoint],
    anchored: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
) -> list[tuple[int, str]]:
    """What the checkpoints anchored outside the database say the database lost or changed."""
    problems: list[tuple[int, str]] = []
    by_seq = {entry.seq: entry for entry in entries}
    stored = {checkpoint.seq: checkpoint for checkpoint in checkpoints}
    last_seq = entries[-1].seq if entries else 0
    beyond = 0
    for anchor in anchored:
        try:
            public_key.verify(anchor.signature, checkpoint_message(anchor.seq, anchor.entry_hash))
        except InvalidSignature:
            problems.append((anchor.seq, f"anchored checkpoint at entry {anchor.seq} is forged"))
            continue
        entry = by_seq.get(anchor.seq)
        if anchor.seq > last_seq:
            beyond = max(beyond, anchor.seq)
        elif entry is None:
            problems.append((anchor.seq, f"entry {anchor.seq} was removed (anchored)"))
        elif entry.entry_hash != anchor.entry_hash:
            problems.append(
                (anchor.seq, f"entries up to {anchor.seq} were rewritten after being anchored")
            )
        elif anchor.seq not in stored:
            problems.append(
                (anchor.seq, f"checkpoint at entry {anchor.seq} was deleted from the database")
            )
    if beyond:
        problems.append(
            (
                last_seq + 1,
                f"entries {last_seq + 1} to {beyond} were removed: the chain ends at entry "
                f"{last_seq} but a checkpoint at entry {beyond} was anchored",
            )
        )
    return problems


def verify_chain(
    entries: Sequence[AuditEntry],
    checkpoints: Sequence[Checkpoint],
    public_key: Ed25519PublicKey,
    anchored: Sequence[Checkpoint] = (),
) -> VerifyReport:
    """Walk the chain in seq order and report the first edited, removed or reordered entry,
    checking it against the checkpoints stored with it and those anchored outside."""
    problems: list[tuple[int, str]] = []
    seq_of_hash = {e.entry_hash: e.seq for e in entries}
    prev, expected = GENESIS_HASH, 1
    by_seq: dict[int, AuditEntry] = {}
    for entry in entries:
        by_seq[entry.seq] = entry
        if problems:
            continue
        if entry.seq != expected:
            problems.append((expected, f"entry {expected} was removed"))
        elif entry.prev_hash != prev:
            if seq_of_hash.get(entry.prev_hash, 0) > entry.seq:
                earlier = seq_of_hash[entry.prev_hash]
                why = f"entry {entry.seq} is out of order (it follows entry {earlier})"
            else:
                why = f"entry {entry.seq} does not follow entry {expected - 1}: chain rewritten"
            problems.append((entry.seq, why))
        elif entry_digest(entry.prev_hash, entry.at, entry.record) != entry.entry_hash:
            problems.append((entry.seq, f"entry {entry.seq} was edited"))
        prev, expected = entry.entry_hash, entry.seq + 1
    last_seq = entries[-1].seq if entries else 0
    for checkpoint in checkpoints:
        try:
            public_key.verify(
                checkpoint.signature, checkpoint_message(checkpoint.seq, checkpoint.entry_hash)
            )
        except InvalidSignature:
            problems.append((checkpoint.seq, f"checkpoint at entry {checkpoint.seq} is forged"))
            continue
        signed = by_seq.get(checkpoint.seq)
        if signed is None:
            where = min(checkpoint.seq, last_seq + 1)
            problems.append(
                (where, f"entry {where} was removed (signed at checkpoint {checkpoint.seq})")
            )
        elif signed.entry_hash != checkpoint.entry_hash:
            problems.append(
                (
                    checkpoint.seq,
                    f"entries up to {checkpoint.seq} were rewritten after being signed",
                )
            )
    problems += _anchor_problems(entries, checkpoints, anchored, public_key)
    if not problems:
        return VerifyReport(
            entries=len(entries), checkpoints=len(checkpoints), anchored=len(anchored)
        )
    seq, problem = min(problems)
    return VerifyReport(
        len(entries), len(checkpoints), first_bad_seq=seq, problem=problem, anchored=len(anchored)
    )
