"""Vault throughput against raw S3, and the peak memory of a large streamed upload.

Starts the vault as its own process (`python -m vault`, on the real PostgreSQL, Kafka and
SeaweedFS S3 of the local stack) and, in the same run, does raw minio put/get of the same
bytes. Prints encrypted/raw throughput ratios (1 = as fast as raw S3) for 1 MB and 100 MB
objects, and the vault process's peak RSS during a 1 GB streamed upload.

    python services/vault/bench/bench_vault.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))


from recouvra.vault.v1 import vault_pb2, vault_pb2_grpc  # noqa: E402
from tests.support.databases import (  # noqa: E402
    create_service_database,
    drop_service_database,
)
from tests.support.fixtures import wait_serving  # noqa: E402
from tests.support.identity import as_person, identity_keys  # noqa: E402
from tests.support.pki import platform_pki  # noqa: E402
from tests.support.stack import (  # noqa: E402  # noqa: E402
    find_stack,
    free_port,
    provision_kafka,
    unique_name,
)
from vault.adapters.store import S3ObjectStore  # noqa: E402

MB = 1_000_000
PIECE = 1024 * 1024
CREDITOR = as_person("vault", "creditor", "t-1", "bench")
BLOCK = os.urandom(PIECE)
PART_SIZE = 8 * 1024 * 1024


def pieces(size: int) -> Iterator[bytes]:
    """`size` bytes of a PDF-looking document, generated piece by piece."""
    sent = 0
    index = 0
    while sent < size:
        n = min(PIECE, size - sent)
        piece = (
            (b"%PDF-1.7" + BLOCK[8:n]) if index == 0 else BLOCK[: n - 4] + index.to_bytes(4, "big")
        )
        yield piece[:n]
        sent += n
        index += 1


class _Reader:
    def __init__(self, size: int) -> None:
        self._pieces = pieces(size)
        self._buffer = bytearray()

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buffer) < n:
            piece = next(self._pieces, None)
            if piece is None:
                break
            self._buffer += piece
        cut = len(self._buffer) if n < 0 else min(n, len(self._buffer))
        out = bytes(self._buffer[:cut])
        del self._buffer[:cut]
        return out


async def put(stub: vault_pb2_grpc.VaultServiceStub, size: int) -> str:
    async def requests() -> AsyncIterator[vault_pb2.PutDocumentRequest]:
        yield vault_pb2.PutDocumentRequest(
            metadata=vault_pb2.DocumentMetadata(case_id="bench", kind=vault_pb2.DOCUMENT_KIND_OTHER)
        )
        for piece in pieces(size):
            yield vault_pb2.PutDocumentRequest(chunk=piece)

    reply = await stub.PutDocument(requests(), metadata=CREDITOR, timeout=3600)
    return str(reply.document_id)


async def get(stub: vault_pb2_grpc.VaultServiceStub, document_id: str) -> int:
    received = 0
    async for reply in stub.GetDocument(
        vault_pb2.GetDocumentRequest(document_id=document_id), metadata=CREDITOR, timeout=3600
    ):
        received += len(reply.chunk)
    return received


def raw_put(store: S3ObjectStore, name: str, size: int) -> None:
    store.client.put_object(store.bucket, name, _Reader(size), -1, part_size=store.part_size)  # type: ignore[arg-type]


def raw_get(store: S3ObjectStore, name: str) -> int:
    response = store.client.get_object(store.bucket, name)
    received = 0
    try:
        for piece in response.stream(PIECE):
            received += len(piece)
    finally:
        response.close()
        response.release_conn()
    return received


async def timed(coroutine) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    await coroutine
    return time.perf_counter() - start


class ServerMemory:
    """Samples the resident memory of the vault process every 10 ms."""

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/statm")
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def rss(self) -> int:
        return int(self.path.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.01)

    def __enter__(self) -> ServerMemory:
        self.baseline = self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def start_vault(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m vault` with its output in `log`."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "vault"], env=env, stdout=output, stderr=output
        )


async def run(quick: bool) -> None:
    stack = find_stack()
    name = unique_name("bench_vault")
    bucket = name.replace("_", "-")
    db = await create_service_database(stack, "vault")
    store = S3ObjectStore.connect(
        stack.s3_endpoint,
        stack.s3_access_key,
        stack.s3_secret_key,
        bucket,
        region="us-east-1",
        part_size=PART_SIZE,
    )
    server: subprocess.Popen[bytes] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            url = db.url
            await asyncio.to_thread(db.migrate)
            port = free_port()
            log = Path(tmp) / "vault.log"
            provision_kafka(stack, name + ".", ["vault"])
            env = {
                **os.environ,
                "RECOUVRA_ENV": "development",
                **identity_keys().env("vault"),
                "RECOUVRA_LOG_LEVEL": "WARNING",
                **stack.kafka_env("vault"),
                "RECOUVRA_KAFKA_TOPIC_PREFIX": name + ".",
                **platform_pki().env("vault"),
                "RECOUVRA_VAULT_DATABASE_URL": url,
                "RECOUVRA_VAULT_GRPC_PORT": str(port),
                "RECOUVRA_VAULT_KEY_FILE": str(Path(tmp) / "keys.json"),
                "RECOUVRA_VAULT_BUCKET": bucket,
                "RECOUVRA_VAULT_S3_ENDPOINT": stack.s3_endpoint,
                "RECOUVRA_VAULT_S3_ACCESS_KEY": stack.s3_access_key,
                "RECOUVRA_VAULT_S3_SECRET_KEY": stack.s3_secret_key,
                "RECOUVRA_VAULT_S3_PART_SIZE": str(PART_SIZE),
                "RECOUVRA_VAULT_MAX_DOCUMENT_BYTES": str(4 * 1024**3),
                # Freed megabyte buffers go back to the OS at once instead of staying in glibc's
                # per-thread arenas (the same setting is advisable for the deployed service).
                "MALLOC_MMAP_THRESHOLD_": str(128 * 1024),
            }
            server = await asyncio.to_thread(start_vault, env, log)
            target = f"127.0.0.1:{port}"
            await asyncio.to_thread(wait_serving, target, "vault", 60.0, server)
            async with platform_pki().channel(target, "vault") as channel:
                stub = vault_pb2_grpc.VaultServiceStub(channel)
                await get(stub, await put(stub, 12 * MB))  # warm-up (bucket, pools, buffers)
                for size in [MB, 16 * MB] if quick else [MB, 100 * MB]:
                    raw_up = await timed(asyncio.to_thread(raw_put, store, f"raw-{size}", size))
                    raw_down = await timed(asyncio.to_thread(raw_get, store, f"raw-{size}"))
                    start = time.perf_counter()
                    document_id = await put(stub, size)
                    enc_up = time.perf_counter() - start
                    enc_down = await timed(get(stub, document_id))
                    label = f"{size // MB} MB"
                    print(
                        f"vault {label:>6}: encrypted upload {size / enc_up / MB:6.1f} MB/s "
                        f"vs raw S3 put {size / raw_up / MB:6.1f} MB/s "
                        f"(ratio {raw_up / enc_up:.2f}); "
                        f"encrypted download {size / enc_down / MB:6.1f} MB/s "
                        f"vs raw S3 get {size / raw_down / MB:6.1f} MB/s "
                        f"(ratio {raw_down / enc_down:.2f})"
                    )
                big = 128 * MB if quick else 1000 * MB
                with ServerMemory(server.pid) as memory:
                    start = time.perf_counter()
                    await put(stub, big)
                    elapsed = time.perf_counter() - start
                growth = (memory.peak - memory.baseline) / 2**20
                print(
                    f"vault {big // MB} MB streamed upload: vault process peak RSS "
                    f"{memory.peak / 2**20:.1f} MiB, growth {growth:.1f} MiB over its idle "
                    f"{memory.baseline / 2**20:.1f} MiB; {big / elapsed / MB:.1f} MB/s"
                )
        finally:
            if server is not None:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=60)
            if store.client.bucket_exists(bucket):
                for obj in store.client.list_objects(bucket, recursive=True):
                    store.client.remove_object(bucket, str(obj.object_name))
                store.client.remove_bucket(bucket)
            await drop_service_database(stack, db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes (16 MB, 128 MB)")
    asyncio.run(run(parser.parse_args().quick))


if __name__ == "__main__":
    main()
