"""Property: any single flipped bit in a stored object, anywhere, makes the read fail (real S3)."""

from __future__ import annotations

import io

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
async def test_flipping_any_stored_bit_fails_the_read_cleanly(vault, data: st.DataObject) -> None:
    # A three-chunk object: header, two full chunks and a final one (chunk size 1 MiB is
    # shrunk for this test so every region is reachable in a small object).
    vault.deps.chunk_size = 4096
    stored = await vault.put([vault.pdf])
    name = next(n for n in vault.object_names() if stored.document_id in n)
    original = vault.raw_object(name)
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1), label="byte")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    tampered = bytearray(original)
    tampered[position] ^= 1 << bit
    vault.store.client.put_object(
        vault.store.bucket, name, io.BytesIO(bytes(tampered)), len(tampered)
    )

    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await vault.get(stored.document_id)
    assert failed.value.code() == grpc.StatusCode.DATA_LOSS
