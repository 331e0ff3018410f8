"""Identifiers drawn many at a time are what `uuid.uuid4` would give: random version-4 UUIDs."""

from __future__ import annotations

import uuid

from recouvra_shared.ids import uuid4_texts


def test_each_id_is_a_random_version_4_uuid_written_as_uuid_writes_it() -> None:
    ids = uuid4_texts(10_000)
    assert len(ids) == len(set(ids)) == 10_000
    for text in ids:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
    # Every random digit varies: none of the 122 random bits is stuck.
    ints = [uuid.UUID(text).int for text in ids]
    ones = 0
    zeros = 0
    for value in ints:
        ones |= value
        zeros |= ~value
    fixed = (0xF000 << 64) | (0xC000 << 48)  # version and variant
    assert ones & ~fixed == (1 << 128) - 1 & ~fixed
    assert zeros & ~fixed & ((1 << 128) - 1) == (1 << 128) - 1 & ~fixed


def test_none_asked_none_given() -> None:
    assert uuid4_texts(0) == []
