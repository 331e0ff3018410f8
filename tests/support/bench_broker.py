"""A throwaway Kafka with a SASL_SSL and a plain listener, for `make bench` to measure what
SASL_SSL costs on one broker in one run (deploy/local/kafka/bench-broker.sh). The shared stack's
broker keeps its single SASL_SSL listener and its ACLs; this one lives for the bench only."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from recouvra_shared.kafka_security import KafkaConnection
from tests.support.stack import ROOT, Stack

SCRIPT = ROOT / "deploy" / "local" / "kafka" / "bench-broker.sh"


def _free_ports() -> int:
    """A port p with p, p+1 and p+2 free on the loopback (SASL_SSL, controller, plain)."""
    for _ in range(200):
        base = 20000 + secrets.randbelow(9000)
        try:
            for port in (base, base + 1, base + 2):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("bench broker: no three free ports on 127.0.0.1")


async def _answers(connection: KafkaConnection) -> bool:
    host, _, port = connection.bootstrap.rpartition(":")
    with socket.socket() as probe:  # not listening yet: no client (and no log line) needed
        if probe.connect_ex((host, int(port))) != 0:
            return False
    admin = AIOKafkaAdminClient(**connection.client_options(), request_timeout_ms=5000)
    try:
        await admin.start()
        await admin.list_topics()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


@contextlib.asynccontextmanager
async def bench_broker(
    stack: Stack, ready_within: float = 300.0
) -> AsyncIterator[tuple[KafkaConnection, KafkaConnection]]:
    """(SASL_SSL as admin, plain) connections to a broker started here and stopped after."""
    directory = Path(tempfile.mkdtemp(prefix="recouvra-bench-kafka-"))
    password = secrets.token_urlsafe(18)
    port = _free_ports()
    log_path = directory / "broker.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(SCRIPT),
            str(directory),
            password,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RECOUVRA_BENCH_KAFKA_PORT": str(port)},
            start_new_session=True,
        )
    secure = KafkaConnection(
        f"127.0.0.1:{port}", "SASL_SSL", "admin", password, stack.kafka_ca_file
    )
    plain = KafkaConnection(f"127.0.0.1:{port + 2}")
    try:
        deadline = time.monotonic() + ready_within
        while not (await _answers(plain) and await _answers(secure)):
            if process.returncode is not None:
                raise RuntimeError(f"bench broker exited: {log_path.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench broker not ready in {ready_within:.0f} s")
            await asyncio.sleep(1)
        yield secure, plain
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=60)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        shutil.rmtree(directory, ignore_errors=True)
