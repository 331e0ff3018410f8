"""Pytest fixtures for the integration and end-to-end tiers (unit tests use none of these)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar

import asyncpg
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from recouvra_shared.migrations import upgrade
from tests.support.identity import IdentityKeys
from tests.support.identity import identity_keys as make_identity_keys
from tests.support.stack import (
    ISSUED_NAMES,
    ROOT,
    Stack,
    delete_topics_of,
    find_stack,
    free_port,
    unique_name,
)

T = TypeVar("T")


@pytest.fixture(scope="session")
def identity_keys() -> IdentityKeys:
    """Every service's signing key and the public keys they all trust, made once per run."""
    return make_identity_keys()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The real Kafka, PostgreSQL and S3 servers (started locally when none are named); the
    topics this run created are deleted at its end."""
    found = find_stack()
    yield found
    _off_loop(asyncio.run, delete_topics_of(found.kafka_bootstrap, ISSUED_NAMES))


async def _admin(stack: Stack, sql: str) -> None:
    connection = await asyncpg.connect(stack.pg_admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def _off_loop(fn: Callable[..., T], *args: object) -> T:
    """Run blocking set-up (its own asyncio.run inside) even when an event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture
def make_database(stack: Stack) -> Iterator[Callable[[str], str]]:
    """Factory: a fresh database migrated to the head of a service's schema; dropped after."""
    created: list[str] = []

    def make(service: str) -> str:
        name = unique_name(f"t_{service}")
        _off_loop(asyncio.run, _admin(stack, f'CREATE DATABASE "{name}"'))
        created.append(name)
        url = stack.database_url(name)
        migrations = ROOT / "services" / service / "src" / service / "adapters" / "migrations"
        _off_loop(upgrade, migrations, url)
        return url

    yield make
    for name in created:
        _off_loop(asyncio.run, _admin(stack, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def wait_serving(
    target: str, timeout: float = 60.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until the gRPC health check at target answers SERVING."""
    deadline = time.monotonic() + timeout
    # gRPC's reconnect backoff grows to minutes: a service that starts slowly (a busy machine)
    # would answer long after it is up. Reconnect every second at most instead.
    options = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]
    with grpc.insecure_channel(target, options=options) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process serving {target} exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.2)
    raise TimeoutError(f"{target} did not report SERVING within {timeout} s")


@dataclass
class ServiceProcess:
    """A service running as its own OS process (`python -m <service>`)."""

    service: str
    env: dict[str, str]
    log_path: Path
    grpc_port: int
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def start(self, **extra_env: str) -> ServiceProcess:
        """Start the process and wait until it reports SERVING; it signs with this run's key
        of its service and trusts this run's keys unless its env says otherwise."""
        self._log = self.log_path.open("ab")
        identity = make_identity_keys().env(self.service)
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.service],
            env={**os.environ, **identity, **self.env, **extra_env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        wait_serving(self.target, process=self.process)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a node failure."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM and wait for a graceful exit; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        if self._log is not None:
            self._log.close()
        return code

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def run_service(stack: Stack, tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Factory: configure (not start) a service process against the stack (it signs with its
    own key of this run and trusts this run's keys: `ServiceProcess.start`); killed after."""
    started: list[ServiceProcess] = []

    def configure(service: str, database_url: str, topic_prefix: str, **env: str) -> ServiceProcess:
        port = free_port()
        prefix = f"RECOUVRA_{service.upper()}_"
        proc = ServiceProcess(
            service=service,
            env={
                "RECOUVRA_ENV": "development",
                "RECOUVRA_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
                "RECOUVRA_KAFKA_TOPIC_PREFIX": topic_prefix,
                f"{prefix}DATABASE_URL": database_url,
                f"{prefix}GRPC_PORT": str(port),
                **{f"{prefix}{k.upper()}": v for k, v in env.items()},
            },
            log_path=tmp_path / f"{service}.log",
            grpc_port=port,
        )
        started.append(proc)
        return proc

    yield configure
    for proc in started:
        proc.kill()
