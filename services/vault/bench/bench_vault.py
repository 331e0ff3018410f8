"""Vault throughput against raw S3, and the memory of a large streamed upload and download.

Starts the vault as its own process (`python -m vault`, on the real PostgreSQL, Kafka and
SeaweedFS S3 of the local stack) and, in the same run, does raw minio put/get of the same
bytes. Reports upload and download MB/s at 1 MB, 16 MB and 128 MB beside raw S3 (ratio 1 = as
fast as raw S3; each the best of interleaved rounds), and the vault process's resident memory
growth during a 1 GB streamed upload and download. `--profile FILE` samples the vault with
py-spy for the whole run (collapsed stacks, one line per stack and thread).

    python services/vault/bench/bench_vault.py [--quick] [--profile FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import io
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
from tests.support.bench_table import Row, Target, report  # noqa: E402
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
    topics_deleted_after,
    unique_name,
)
from vault.adapters.store import S3ObjectStore  # noqa: E402

MB = 1_000_000
GB = 1_000_000_000
SIZES = [MB, 16 * MB, 128 * MB]
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


def raw_put(store: S3ObjectStore, name: str, payload: bytes) -> None:
    """What a plain client does with bytes it holds: minio's parallel multipart upload."""
    store.client.put_object(
        store.bucket, name, io.BytesIO(payload), len(payload), part_size=store.part_size
    )


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


async def speeds(
    stub: vault_pb2_grpc.VaultServiceStub, store: S3ObjectStore, rounds: int
) -> list[Row]:
    """Upload and download MB/s against raw S3 put and get of the same bytes, at each size.

    The machine is shared: each round runs raw and vault back to back, and each figure is the
    best of its rounds, so a burst of someone else's work lowers one sample, not the ratio.
    """
    rows = []
    for size in SIZES:
        best = {"raw put": 0.0, "raw get": 0.0, "vault upload": 0.0, "vault download": 0.0}
        payload = b"".join(pieces(size))
        for _ in range(rounds):
            raw_up = await timed(asyncio.to_thread(raw_put, store, f"raw-{size}", payload))
            raw_down = await timed(asyncio.to_thread(raw_get, store, f"raw-{size}"))
            start = time.perf_counter()
            document_id = await put(stub, size)
            enc_up = time.perf_counter() - start
            enc_down = await timed(get(stub, document_id))
            for path, seconds in zip(best, (raw_up, raw_down, enc_up, enc_down), strict=True):
                best[path] = max(best[path], size / seconds / MB)
        label = f"{size // MB} MB"
        for way, raw in (("upload", "raw put"), ("download", "raw get")):
            rows.append(
                Row(
                    f"vault {way} {label}",
                    best[f"vault {way}"],
                    "MB/s",
                    baseline=best[raw],
                    baseline_label=f"{raw.replace('raw', 'raw S3')}, same bytes",
                    target=Target("ratio", ">=", 0.9),
                    note=f"best of {rounds} interleaved rounds" if size == SIZES[0] else "",
                )
            )
    return rows


async def memory_rows(stub: vault_pb2_grpc.VaultServiceStub, pid: int, size: int) -> list[Row]:
    """The vault process's resident memory growth during one streamed upload and download."""
    with ServerMemory(pid) as up:
        start = time.perf_counter()
        document_id = await put(stub, size)
        up_rate = size / (time.perf_counter() - start) / MB
    with ServerMemory(pid) as down:
        start = time.perf_counter()
        received = await get(stub, document_id)
        down_rate = size / (time.perf_counter() - start) / MB
    assert received == size, received
    label = f"{size // MB} MB" if size < GB else f"{size // GB} GB"
    return [
        Row(
            f"vault {label} {way}: peak memory growth",
            (memory.peak - memory.baseline) / 2**20,
            "MiB",
            target=Target("figure", "<=", 64),
            higher_is_better=False,
            note=(
                f"vault process RSS sampled every 10 ms; idle {memory.baseline / 2**20:.0f} MiB, "
                f"{rate:.0f} MB/s"
            ),
        )
        for way, memory, rate in (("upload", up, up_rate), ("download", down, down_rate))
    ]


def start_profiler(pid: int, output: Path | None) -> subprocess.Popen[bytes] | None:
    """py-spy sampling the vault process (collapsed stacks in `output`), when asked for."""
    if output is None:
        return None
    py_spy = Path(sys.executable).with_name("py-spy")
    command = ["record", "--pid", str(pid), "-r", "200", "-f", "raw", "--nonblocking"]
    return subprocess.Popen([str(py_spy), *command, "--threads", "-o", str(output)])


async def run(quick: bool, profile: Path | None) -> None:
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
            }
            server = await asyncio.to_thread(start_vault, env, log)
            target = f"127.0.0.1:{port}"
            await asyncio.to_thread(wait_serving, target, "vault", 60.0, server)
            profiler = start_profiler(server.pid, profile)
            async with platform_pki().channel(target, "vault") as channel:
                stub = vault_pb2_grpc.VaultServiceStub(channel)
                await get(stub, await put(stub, 12 * MB))  # warm-up (bucket, pools, buffers)
                # Memory first: its baseline is the process just warmed up, before the speed
                # rounds leave buffers in the allocator's arenas to be reused.
                rows = await memory_rows(stub, server.pid, GB)
                rows += await speeds(stub, store, rounds=2 if quick else 3)
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)
                profiler.wait(timeout=60)
            report(rows)
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
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--profile", type=Path, help="py-spy the vault into this file")
    args = parser.parse_args()
    with topics_deleted_after(find_stack()):
        asyncio.run(run(args.quick, args.profile))


if __name__ == "__main__":
    main()
