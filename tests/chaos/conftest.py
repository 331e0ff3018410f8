"""The chaos tests' working directory, outside pytest's own temporary tree.

The harness's PostgreSQL runs as the `postgres` user when the tests run as root, and reaches its
data through a search permission granted on each folder above it. Every pytest session started
on the machine resets `/tmp/pytest-of-<user>` to mode 700 (pytest does so on purpose), which
took that permission away from a run in progress: its PostgreSQL lost its own files at the next
checkpoint and shut down. A folder of its own under the system's temporary directory is not
touched by any other session."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.run import keep_logs


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A fresh directory for a run's own servers; their logs are copied to `tmp_path/kept`
    (kept by pytest for the last runs) before it is removed."""
    path = Path(tempfile.mkdtemp(prefix="recouvra-chaos-"))
    try:
        yield path
    finally:
        keep_logs(path, tmp_path / "kept")
        shutil.rmtree(path, ignore_errors=True)
