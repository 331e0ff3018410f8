"""The clocks the running service can be given."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from recouvra_shared.clocks import OffsetFileClock, SystemClock


def test_the_offset_file_moves_the_wall_clock_forward_and_nothing_when_missing(
    tmp_path: Path,
) -> None:
    offset = tmp_path / "offset"
    clock = OffsetFileClock(offset)
    assert abs(clock.now() - SystemClock().now()) < timedelta(seconds=5)
    offset.write_text("86400\n")
    assert abs(clock.now() - SystemClock().now() - timedelta(days=1)) < timedelta(seconds=5)
    offset.write_text("")
    assert abs(clock.now() - SystemClock().now()) < timedelta(seconds=5)
