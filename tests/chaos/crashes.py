"""A server of the run's own crashed as a node fails: a signal, then wait for the process to be
gone, so the restart that follows never meets the old one still holding its ports or files."""

from __future__ import annotations

import os
import time


def signal_and_wait(pid: int, signal_number: int, seconds: float) -> bool:
    """Send the signal; True once the process is gone, False if it still runs after `seconds`."""
    os.kill(pid, signal_number)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
