"""The vault's allocator settings: applied at start, never over the operator's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from vault.adapters import allocator

glibc = pytest.mark.skipif(not os.confstr("CS_GNU_LIBC_VERSION"), reason="mallopt is glibc's")

SHOW = (
    "import json; from vault.adapters.allocator import bound_allocator; "
    "print(json.dumps(bound_allocator()))"
)


def applied(**environment: str) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    ran = subprocess.run(
        [sys.executable, "-c", SHOW], env={**env, **environment}, capture_output=True, check=True
    )
    return dict(json.loads(ran.stdout))


@glibc
def test_megabyte_buffers_stay_in_two_arenas_and_larger_ones_are_mapped_apart() -> None:
    assert applied() == {
        "MALLOC_MMAP_THRESHOLD_": allocator.MMAP_THRESHOLD,
        "MALLOC_TRIM_THRESHOLD_": allocator.TRIM_THRESHOLD,
        "MALLOC_ARENA_MAX": allocator.ARENA_MAX,
    }
    # A streamed chunk (1 MiB and its tag) fits under the threshold; an upload part (5 MiB at
    # least, S3's smallest) does not.
    assert 1024 * 1024 + 16 < allocator.MMAP_THRESHOLD < 5 * 1024 * 1024


@glibc
def test_the_operators_environment_wins() -> None:
    assert applied(MALLOC_ARENA_MAX="4", MALLOC_TRIM_THRESHOLD_="131072") == {
        "MALLOC_MMAP_THRESHOLD_": allocator.MMAP_THRESHOLD
    }
    assert (
        applied(
            MALLOC_MMAP_THRESHOLD_="131072", MALLOC_TRIM_THRESHOLD_="131072", MALLOC_ARENA_MAX="4"
        )
        == {}
    )
