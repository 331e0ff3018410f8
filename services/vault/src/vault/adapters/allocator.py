"""How the C allocator treats the vault's megabyte buffers.

Every chunk the vault streams lives in a few buffers of about 1 MiB (the piece read from S3,
its plaintext, the serialized message, gRPC's copy), and an upload gathers 8 MiB parts. With
glibc's defaults, freed 1 MiB buffers stay in per-thread arenas (the threshold for mapping them
apart adapts upwards), so a 1 GB upload grew the process by 81 to 145 MiB. Mapping every buffer
above 128 KiB apart keeps memory flat but faults in fresh pages for each one: downloads spent
half their CPU there. Between the two: buffers up to 2 MiB come from at most two arenas and are
reused, an arena keeps up to 8 MiB free at its top instead of handing it back after every free
(which faults the pages in again for the next buffer), and larger buffers (upload parts) are
mapped apart and returned at once.

An operator's own `MALLOC_MMAP_THRESHOLD_`, `MALLOC_TRIM_THRESHOLD_` or `MALLOC_ARENA_MAX` wins
over the setting it names.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# glibc's mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8

MMAP_THRESHOLD = 2 * 1024 * 1024
TRIM_THRESHOLD = 8 * 1024 * 1024
ARENA_MAX = 2

_SETTINGS = (
    ("MALLOC_MMAP_THRESHOLD_", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    ("MALLOC_TRIM_THRESHOLD_", M_TRIM_THRESHOLD, TRIM_THRESHOLD),
    ("MALLOC_ARENA_MAX", M_ARENA_MAX, ARENA_MAX),
)


def bound_allocator() -> dict[str, int]:
    """Apply the settings above, before the threads start; returns what was set.

    Nothing is set on a C library without `mallopt` (not glibc), nor where the operator's
    environment already says.
    """
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    mallopt = getattr(libc, "mallopt", None) if libc is not None else None
    if mallopt is None or not hasattr(libc, "gnu_get_libc_version"):
        return {}
    applied = {}
    for variable, parameter, value in _SETTINGS:
        if variable in os.environ:
            continue
        if mallopt(parameter, value) == 1:
            applied[variable] = value
    return applied
