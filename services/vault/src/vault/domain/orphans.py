"""Which stored objects no document needs any more, and what a sweep found.

An upload stores its ciphertext first and commits its row after, so a crash or a failed commit
in between leaves an object no row points to. Its data key was never stored: nobody can read
it. The sweeper removes such objects once they are older than a grace period (an upload in
progress has no row yet either), and the leftovers of shredded documents whose delete failed.
It only ever goes from objects to rows: a row without an object (a shredded document) is normal.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from vault.domain.model import ObjectAddress, parse_object_name


@dataclass(frozen=True)
class StoredObject:
    """One object as the store lists it."""

    name: str
    size: int
    last_modified: datetime


@dataclass(frozen=True)
class RowRef:
    """What a document row says about its object."""

    object_name: str
    shredded: bool


class Verdict(StrEnum):
    """What the sweeper does with one object."""

    REFERENCED = "referenced"
    RECENT = "recent"
    FOREIGN = "foreign"
    ORPHAN = "orphan"
    SHREDDED_LEFTOVER = "shredded-leftover"

    @property
    def removable(self) -> bool:
        """Whether the sweeper deletes an object with this verdict."""
        return self in {Verdict.ORPHAN, Verdict.SHREDDED_LEFTOVER}


def judge(
    stored: StoredObject, rows: Mapping[str, RowRef], older_than: datetime
) -> tuple[Verdict, ObjectAddress | None]:
    """The verdict on one object, given the rows of the document ids its page names."""
    address = parse_object_name(stored.name)
    if address is None:
        # The vault never writes such a name: not ours to judge, an operator's to look at.
        return Verdict.FOREIGN, None
    row = rows.get(address.document_id)
    if row is not None and row.object_name == stored.name:
        return (Verdict.SHREDDED_LEFTOVER if row.shredded else Verdict.REFERENCED), address
    if stored.last_modified >= older_than:
        return Verdict.RECENT, address
    return Verdict.ORPHAN, address


@dataclass
class SweepReport:
    """What one sweep saw and did, by verdict."""

    dry_run: bool
    scanned: int = 0
    referenced: int = 0
    recent: int = 0
    foreign: int = 0
    orphans: int = 0
    shredded_leftovers: int = 0
    deleted: int = 0
    failed: int = 0
    busy: bool = False

    def count(self, verdict: Verdict) -> None:
        """Count one object under its verdict."""
        self.scanned += 1
        field = {
            Verdict.REFERENCED: "referenced",
            Verdict.RECENT: "recent",
            Verdict.FOREIGN: "foreign",
            Verdict.ORPHAN: "orphans",
            Verdict.SHREDDED_LEFTOVER: "shredded_leftovers",
        }[verdict]
        setattr(self, field, getattr(self, field) + 1)

    def summary(self) -> str:
        """One line for an operator."""
        if self.busy:
            return "another sweep is running; nothing done"
        seen = (
            f"scanned {self.scanned} objects: {self.referenced} referenced, "
            f"{self.orphans} orphans, {self.shredded_leftovers} left by shredded documents, "
            f"{self.recent} too recent, {self.foreign} not named by the vault"
        )
        if self.dry_run:
            return f"{seen}; would delete {self.orphans + self.shredded_leftovers} (dry run)"
        return f"{seen}; deleted {self.deleted}, failed {self.failed}"
