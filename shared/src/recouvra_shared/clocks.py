"""Clocks a running service can be given: the wall clock, or the wall clock moved forward by a
file (the test clock matching and messaging share)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time from the operating system."""
        return datetime.now(UTC)


class OffsetFileClock:
    """The wall clock moved forward by the seconds written in a file: end-to-end tests jump
    weeks ahead without sleeping (development only; settings refuse it elsewhere)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> datetime:
        """Wall-clock time plus the file's offset (none while the file is missing or empty)."""
        try:
            raw = self.path.read_text().strip()
        except FileNotFoundError:
            raw = ""
        return datetime.now(UTC) + timedelta(seconds=float(raw or 0))
