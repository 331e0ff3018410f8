"""Which stored objects no document needs any more, and what a sweep found.

An upload stores its ciphertext first and commits its row after, so a crash or a failed commit
in between leaves an object no row points to. Its data key was never stored: nobody can read
it. The sweeper moves such objects to a quarantine prefix once they are older than a grace
period (an upload in progress has no row yet either), with the leftovers of shredded documents
whose delete failed; quarantined objects are deleted after a retention period. It only ever goes
from objects to rows: a row without an object (a shredded document) is normal.

Judged against an empty, wrong or restored database every object would look orphaned, so a
sweep first looks at the whole bucket and refuses to move anything when the picture is not that
of a few crashed uploads (`why_not_sweep`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from vault.domain.model import ObjectAddress, parse_object_name

# No tenant id starts with "_", so no document's name can fall under the quarantine.
QUARANTINE_PREFIX = "_quarantine/"


def quarantine_name(name: str) -> str:
    """Where the sweeper moves `name` while it waits out the retention period."""
    return QUARANTINE_PREFIX + name


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
    QUARANTINED = "quarantined"

    @property
    def removable(self) -> bool:
        """Whether the sweeper deletes an object with this verdict."""
        return self in {Verdict.ORPHAN, Verdict.SHREDDED_LEFTOVER}


def judge(
    stored: StoredObject, rows: Mapping[str, RowRef], older_than: datetime
) -> tuple[Verdict, ObjectAddress | None]:
    """The verdict on one object, given the rows of the document ids its page names."""
    if stored.name.startswith(QUARANTINE_PREFIX):
        return Verdict.QUARANTINED, None
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


@dataclass(frozen=True)
class SweepPolicy:
    """How much one sweep may move, and when the bucket looks too wrong to touch."""

    max_per_run: int = 1000
    # Orphans above this share of the vault's objects mean a wrong database, not crashes...
    max_orphan_share: float = 0.05
    # ...once there are more than this many of them (a young bucket has few objects).
    share_floor: int = 10
    # Every object is stored just before its row: an oldest row much younger than the oldest
    # object means the rows were lost (a new, wrong or restored database).
    new_database_margin: timedelta = timedelta(days=1)


DEFAULT_POLICY = SweepPolicy()


@dataclass
class SweepReport:
    """What one sweep saw and did, by verdict."""

    dry_run: bool
    cap: int = SweepPolicy.max_per_run
    scanned: int = 0
    referenced: int = 0
    recent: int = 0
    foreign: int = 0
    orphans: int = 0
    shredded_leftovers: int = 0
    quarantined: int = 0
    failed: int = 0
    left_for_next: int = 0
    purged: int = 0
    in_quarantine: int = 0
    oldest_object: datetime | None = None
    refused: str | None = None
    stopped: bool = False
    busy: bool = False

    @property
    def removable(self) -> int:
        """Objects the sweep would move, before the per-run cap."""
        return self.orphans + self.shredded_leftovers

    @property
    def ours(self) -> int:
        """Objects named by the vault, outside the quarantine."""
        return self.referenced + self.recent + self.orphans + self.shredded_leftovers

    def count(self, stored: StoredObject, verdict: Verdict) -> None:
        """Count one object under its verdict."""
        if verdict is Verdict.QUARANTINED:
            self.in_quarantine += 1
            return
        self.scanned += 1
        if verdict is not Verdict.FOREIGN and (
            self.oldest_object is None or stored.last_modified < self.oldest_object
        ):
            self.oldest_object = stored.last_modified
        field = {
            Verdict.REFERENCED: "referenced",
            Verdict.RECENT: "recent",
            Verdict.FOREIGN: "foreign",
            Verdict.ORPHAN: "orphans",
            Verdict.SHREDDED_LEFTOVER: "shredded_leftovers",
            Verdict.QUARANTINED: "in_quarantine",
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
        if self.stopped:
            return f"{seen}; stopped before the end of the bucket, nothing moved"
        if self.refused is not None:
            return f"{seen}; refused to sweep: {self.refused}; nothing moved"
        if self.dry_run:
            return f"{seen}; would quarantine {min(self.removable, self.cap)} (dry run)"
        return (
            f"{seen}; quarantined {self.quarantined}, failed {self.failed}, "
            f"left for the next sweep {self.left_for_next}; "
            f"purged {self.purged} past their retention"
        )


def why_not_sweep(
    report: SweepReport, oldest_row: datetime | None, policy: SweepPolicy
) -> str | None:
    """Why the bucket looks too wrong to move anything out of it; None when it looks right."""
    if report.removable == 0:
        return None
    if oldest_row is None:
        return "the database has no document rows (new or wrong database?)"
    oldest_object = report.oldest_object
    if oldest_object is not None and oldest_row - oldest_object > policy.new_database_margin:
        return (
            f"the oldest document row ({oldest_row:%Y-%m-%d %H:%M}) is far younger than the "
            f"oldest object ({oldest_object:%Y-%m-%d %H:%M}) (new or restored database?)"
        )
    if (
        report.orphans > policy.share_floor
        and report.orphans > policy.max_orphan_share * report.ours
    ):
        return (
            f"{report.orphans} of {report.ours} objects have no row, above the "
            f"{policy.max_orphan_share:.0%} allowed (wrong or restored database?)"
        )
    return None
