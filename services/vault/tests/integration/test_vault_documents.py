"""Storing and reading evidence through the vault's gRPC API, against real PostgreSQL and S3."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager

import grpc
import pytest
from sqlalchemy import func, select, update

from recouvra.vault.v1 import vault_pb2
from vault.adapters.allocator import bound_allocator
from vault.adapters.keys import load_key_file
from vault.adapters.orm import audit_log, documents
from vault.service_layer.audit import verify_audit
from vault.service_layer.key_rotation import rewrap_data_keys

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


async def test_a_document_round_trips_and_the_store_holds_only_ciphertext(vault) -> None:
    stored = await vault.put([vault.pdf[:1000], vault.pdf[1000:]])
    assert stored.content_type == "application/pdf"
    assert stored.size_bytes == len(vault.pdf)
    assert stored.sha256_hex == hashlib.sha256(vault.pdf).hexdigest()

    description, body = await vault.get(stored.document_id)
    assert body == vault.pdf
    assert description.document_id == stored.document_id

    (name,) = vault.object_names()
    raw = vault.raw_object(name)
    assert b"ACME SARL" not in raw
    assert b"%PDF" not in raw
    listed = await vault.stub.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id="case-1"),
        metadata=vault.caller("creditor", "creditor-1"),
    )
    assert [d.document_id for d in listed.documents] == [stored.document_id]
    foreign = await vault.stub.ListDocuments(
        vault_pb2.ListDocumentsRequest(case_id="case-1"),
        metadata=vault.caller("creditor", "creditor-2"),
    )
    assert list(foreign.documents) == []


@contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Sample this process's resident memory every 10 ms; yields [baseline, peak] in bytes."""
    page = os.sysconf("SC_PAGE_SIZE")

    def rss() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    result = [rss(), rss()]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            result[1] = max(result[1], rss())
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield result
    finally:
        done.set()
        sampler.join()


async def test_a_64_mib_document_streams_both_ways_with_flat_memory(vault) -> None:
    size = 64 * MiB
    bound_allocator()  # as `python -m vault` starts: the allocator is part of the memory bound
    block = os.urandom(MiB)
    sent = hashlib.sha256()

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(size // MiB):
            piece = b"%PDF-1.7" + block[8:] if i == 0 else block[:-4] + i.to_bytes(4, "big")
            sent.update(piece)
            yield piece

    # Warm up first: thread pools, connection pools and allocator arenas are a one-off cost.
    warm = await vault.put([vault.pdf] + [os.urandom(MiB) for _ in range(12)])
    await vault.get_digest(warm.document_id)
    with peak_rss_growth() as upload:
        stored = await vault.put(pieces())
    with peak_rss_growth() as download:
        digest, received = await vault.get_digest(stored.document_id)

    assert stored.size_bytes == size
    assert digest == sent.hexdigest() == stored.sha256_hex
    assert received == size
    # Client and server share this process: gRPC flow-control windows, a 5 MiB multipart part
    # and minio's copies of it while signing and sending, 1 MiB encryption chunks. Measured at
    # 20-23 MiB (upload) and 3-4 MiB (download) with the vault's allocator settings (32-40 and
    # ~10 MiB with every buffer above 128 KiB mapped apart); holding the document would exceed
    # 64 MiB.
    upload_growth = upload[1] - upload[0]
    download_growth = download[1] - download[0]
    assert upload_growth < 56 * MiB, f"upload grew RSS by {upload_growth / MiB:.1f} MiB"
    assert download_growth < 24 * MiB, f"download grew RSS by {download_growth / MiB:.1f} MiB"


async def test_refused_uploads_say_why_and_leave_nothing_behind(vault) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await vault.put([b"MZ\x90\x00" + b"\x00" * 600])
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "content: only PDF, PNG, JPEG and XML" in (refused.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as mismatch:
        await vault.put([vault.pdf], sha256_hex="0" * 64)
    assert "metadata.sha256_hex" in (mismatch.value.details() or "")

    with pytest.raises(grpc.aio.AioRpcError) as bad_case:
        await vault.put([vault.pdf], case_id="../other")
    assert (bad_case.value.details() or "").startswith("metadata.case_id:")

    vault.deps.max_document_bytes = 12 * MiB  # more than two multipart parts started
    with pytest.raises(grpc.aio.AioRpcError) as too_big:
        await vault.put([vault.pdf[:MiB]] + [os.urandom(MiB) for _ in range(13)])
    assert "content: larger than the limit of 12582912 bytes" in (too_big.value.details() or "")

    assert vault.object_names() == []
    uploads = vault.store.client._list_multipart_uploads(vault.store.bucket)
    assert list(uploads.uploads) == []
    async with vault.database.unit_of_work() as uow:
        count = (await uow.session.execute(select(func.count()).select_from(documents))).scalar()
        refusals = (
            await uow.session.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.outcome == "refused")
            )
        ).scalar()
    assert count == 0
    assert refusals == 4


async def test_swapped_or_altered_objects_and_keys_fail_to_decrypt(vault) -> None:
    first = await vault.put([vault.pdf])
    second = await vault.put([vault.pdf], case_id="case-2")
    other_tenant = await vault.put([vault.pdf], metadata=vault.caller("creditor", "creditor-2"))
    names = {n.split("/")[2]: n for n in vault.object_names()}
    client, bucket = vault.store.client, vault.store.bucket

    def overwrite(name: str, data: bytes) -> None:
        import io

        client.put_object(bucket, name, io.BytesIO(data), len(data))

    async def read_fails(document_id: str, metadata: Sequence[tuple[str, str]]) -> None:
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await vault.get(document_id, metadata)
        assert failed.value.code() == grpc.StatusCode.DATA_LOSS

    creditor = vault.caller("creditor", "creditor-1")
    original_first = vault.raw_object(names[first.document_id])
    # The second document's object copied over the first one's name.
    overwrite(names[first.document_id], vault.raw_object(names[second.document_id]))
    await read_fails(first.document_id, creditor)
    # Another tenant's object copied over it.
    overwrite(names[first.document_id], vault.raw_object(names[other_tenant.document_id]))
    await read_fails(first.document_id, creditor)
    # One flipped byte in the middle.
    flipped = bytearray(original_first)
    flipped[len(flipped) // 2] ^= 0x01
    overwrite(names[first.document_id], bytes(flipped))
    await read_fails(first.document_id, creditor)
    # Cut short.
    overwrite(names[first.document_id], original_first[:-20])
    await read_fails(first.document_id, creditor)
    overwrite(names[first.document_id], original_first)
    assert (await vault.get(first.document_id))[1] == vault.pdf

    # The wrapped data keys of two documents swapped in the database.
    async with vault.database.unit_of_work() as uow:
        rows = {
            row.document_id: row.wrapped_key
            for row in await uow.session.execute(
                select(documents.c.document_id, documents.c.wrapped_key)
            )
        }
        for target, source in [(first, second), (second, first)]:
            await uow.session.execute(
                update(documents)
                .where(documents.c.document_id == target.document_id)
                .values(wrapped_key=rows[source.document_id])
            )
        await uow.commit()
    await read_fails(first.document_id, creditor)
    await read_fails(second.document_id, creditor)


async def test_key_rotation_rewraps_keys_and_every_document_stays_readable(vault) -> None:
    stored = [await vault.put([vault.pdf + bytes([i])]) for i in range(3)]
    objects_before = {n: vault.raw_object(n) for n in vault.object_names()}
    old_key = load_key_file(vault.key_file).ring.active_key_id

    # The operator command, as run against a live vault: the running server is not restarted.
    env = {
        **os.environ,
        "RECOUVRA_VAULT_DATABASE_URL": vault.database.engine.url.render_as_string(
            hide_password=False
        ),
        "RECOUVRA_VAULT_KEY_FILE": str(vault.key_file),
    }
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vault", "rotate-keys"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    new_key = load_key_file(vault.key_file).ring.active_key_id
    assert f"active key {new_key}; 3 data keys re-wrapped" in result.stdout

    assert new_key != old_key
    async with vault.database.unit_of_work() as uow:
        key_ids = set((await uow.session.execute(select(documents.c.key_id))).scalars())
        rotations = (
            await uow.session.execute(
                select(func.count())
                .select_from(audit_log)
                .where(audit_log.c.action == "key-rotation")
            )
        ).scalar()
    assert key_ids == {new_key}
    assert rotations == 1
    assert {n: vault.raw_object(n) for n in vault.object_names()} == objects_before
    for i, document in enumerate(stored):
        assert (await vault.get(document.document_id))[1] == vault.pdf + bytes([i])
    # Nothing is left to re-wrap: a second run changes nothing.
    ring = load_key_file(vault.key_file).ring
    assert await rewrap_data_keys(vault.deps.units, ring) == 0

    # Point 7: retiring destroys the old key; the running server, never restarted, follows.
    retired = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "vault", "retire-keys"],
        env={**env, "RECOUVRA_VAULT_ORPHAN_GRACE_SECONDS": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert retired.returncode == 0, retired.stderr
    assert f"active key {new_key}; retired {old_key}" in retired.stdout
    assert load_key_file(vault.key_file).ring.key_ids == (new_key,)
    assert vault.deps.keys.active_key_id == new_key
    for i, document in enumerate(stored):
        assert (await vault.get(document.document_id))[1] == vault.pdf + bytes([i])


async def test_a_shredded_document_cannot_be_read_and_the_erasure_is_audited(vault) -> None:
    stored = await vault.put([vault.pdf])
    creditor = vault.caller("creditor", "creditor-1")
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await vault.stub.ShredDocument(
            vault_pb2.ShredDocumentRequest(document_id=stored.document_id, reason="x"),
            metadata=vault.caller("creditor", "creditor-2"),
        )
    assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND

    shredded = await vault.stub.ShredDocument(
        vault_pb2.ShredDocumentRequest(document_id=stored.document_id, reason="GDPR art. 17"),
        metadata=creditor,
    )
    assert shredded.HasField("shredded_at")

    with pytest.raises(grpc.aio.AioRpcError) as gone:
        await vault.get(stored.document_id, creditor)
    assert gone.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "crypto-shredded" in (gone.value.details() or "")
    assert vault.object_names() == []
    async with vault.database.unit_of_work() as uow:
        row = (
            await uow.session.execute(
                select(documents.c.wrapped_key, documents.c.key_id).where(
                    documents.c.document_id == stored.document_id
                )
            )
        ).one()
        actions = [
            (r.action, r.outcome)
            for r in await uow.session.execute(
                select(audit_log.c.action, audit_log.c.outcome).order_by(audit_log.c.seq)
            )
        ]
    assert row.wrapped_key is None
    assert row.key_id is None
    assert actions == [("put", "stored"), ("shred", "erased"), ("get", "shredded")]
    report = await verify_audit(
        vault.deps.units, load_key_file(vault.key_file).audit_signing_key.public_key()
    )
    assert report.ok


async def test_only_the_owner_the_assigned_provider_and_the_portal_for_shareable_docs_read(
    vault,
) -> None:
    from datetime import UTC, datetime, timedelta

    private = await vault.put([vault.pdf])
    shareable = await vault.put([vault.pdf], shareable=True)
    provider = vault.caller("provider", "provider-9")
    debtor = vault.caller("debtor", "creditor-1", subject="case-1")

    async def code(document_id: str, metadata: Sequence[tuple[str, str]]) -> grpc.StatusCode:
        try:
            await vault.get(document_id, metadata)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
        return grpc.StatusCode.OK

    assert await code(private.document_id, vault.caller("creditor", "creditor-2")) == (
        grpc.StatusCode.NOT_FOUND
    )
    assert await code(
        "00000000-0000-0000-0000-000000000000", vault.caller("creditor", "creditor-1")
    ) == (grpc.StatusCode.NOT_FOUND)
    assert await code(private.document_id, provider) == grpc.StatusCode.NOT_FOUND
    assert await code(private.document_id, debtor) == grpc.StatusCode.NOT_FOUND
    assert await code(shareable.document_id, debtor) == grpc.StatusCode.OK

    async with vault.deps.units() as uow:
        await uow.grants.set(
            case_id="case-1",
            provider_id="provider-9",
            tenant_id="creditor-1",
            round_=1,
            active=True,
            as_of=datetime.now(UTC),
            window_ends_at=datetime.now(UTC) + timedelta(days=30),
        )
        await uow.commit()
    assert await code(private.document_id, provider) == grpc.StatusCode.OK
    assert await code(private.document_id, vault.caller("provider", "provider-8")) == (
        grpc.StatusCode.NOT_FOUND
    )


async def test_point_9_retries_with_one_idempotency_key_store_one_document(vault) -> None:
    key = "gateway-retry-after-deadline"
    half = len(vault.pdf) // 2

    async def slowly() -> AsyncIterator[bytes]:
        yield vault.pdf[:half]
        await asyncio.sleep(0.3)
        yield vault.pdf[half:]

    # The first attempt is still streaming when the gateway, past its deadline, retries.
    first, retry = await asyncio.gather(
        vault.put(slowly(), idempotency_key=key), vault.put([vault.pdf], idempotency_key=key)
    )
    later = await vault.put([vault.pdf], idempotency_key=key)
    assert first.document_id == retry.document_id == later.document_id
    async with vault.database.unit_of_work() as uow:
        rows = await uow.session.scalar(select(func.count()).select_from(documents))
    assert rows == 1
    assert len(vault.object_names()) == 1

    with pytest.raises(grpc.aio.AioRpcError) as conflict:
        await vault.put([vault.pdf + b"other content"], idempotency_key=key)
    assert conflict.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(vault.object_names()) == 1
