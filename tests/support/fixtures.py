"""Pytest fixtures for the integration and end-to-end tiers (unit tests use none of these)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import urlsplit

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from recouvra_shared.kafka_security import KafkaConnection
from tests.support.databases import (
    ServiceDatabase,
    admin_user,
    create_service_database,
    drop_service_database,
)
from tests.support.identity import IdentityKeys
from tests.support.identity import identity_keys as make_identity_keys
from tests.support.pki import LocalPki, platform_pki
from tests.support.stack import (
    ISSUED_NAMES,
    ROOT,
    Stack,
    delete_topics_of,
    find_stack,
    free_port,
    provision_kafka,
    revoke_provisioned,
    topics_deleted_after,
    unique_name,
)

# Tests import these from here too.
__all__ = ["ROOT", "Stack", "unique_name"]

T = TypeVar("T")


@pytest.fixture(scope="session")
def pki() -> LocalPki:
    """The tests' CA, a certificate per service and one for the tests as a caller."""
    return platform_pki()


@pytest.fixture(scope="session")
def identity_keys() -> IdentityKeys:
    """Every service's signing key and the public keys they all trust, made once per run."""
    return make_identity_keys()


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The real Kafka, PostgreSQL and S3 servers (started locally when none are named); the
    topics this run created, and the ACLs it granted, are deleted at its end."""
    found = find_stack()
    yield found
    _off_loop(asyncio.run, revoke_provisioned(found))
    _off_loop(asyncio.run, delete_topics_of(found.kafka_admin(), ISSUED_NAMES))


@pytest.fixture(autouse=True)
def _delete_the_tests_topics(request: pytest.FixtureRequest) -> Iterator[None]:
    """At each test's teardown, delete the Kafka topics under the names issued during it.

    Names issued by module or session fixtures (set up before this one) stay until the run's
    end; a run that is killed leaves at most the topics of the test it was in, not the run's.
    """
    if "stack" not in request.fixturenames:
        yield  # a unit test: no Kafka
        return
    stack: Stack = request.getfixturevalue("stack")
    with topics_deleted_after(stack):
        yield


@pytest.fixture
def kafka_as(stack: Stack) -> Callable[[str, str], KafkaConnection]:
    """Factory: `service`'s own Kafka connection, once its ACLs and topics exist under `prefix`
    (granted by the admin as at deploy)."""

    def connect(service: str, prefix: str) -> KafkaConnection:
        provision_kafka(stack, prefix, [service])
        return stack.kafka_as(service)

    return connect


def _off_loop(fn: Callable[..., T], *args: object) -> T:
    """Run blocking set-up (its own asyncio.run inside) even when an event loop is running."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture
def make_service_database(stack: Stack) -> Iterator[Callable[..., ServiceDatabase]]:
    """Factory: a fresh database of a service with its own owner and runtime roles, migrated to
    the head of its schema unless `migrated=False`; dropped, with its roles, after."""
    created: list[ServiceDatabase] = []

    def make(service: str, *, migrated: bool = True) -> ServiceDatabase:
        database: ServiceDatabase = _off_loop(asyncio.run, create_service_database(stack, service))
        created.append(database)
        if migrated:
            _off_loop(database.migrate)
        return database

    yield make
    for database in created:
        _off_loop(asyncio.run, drop_service_database(stack, database))


@pytest.fixture
def make_database(make_service_database: Callable[..., ServiceDatabase]) -> Callable[[str], str]:
    """Factory: the URL, as the service's runtime role, of a fresh migrated database of it."""
    return lambda service: make_service_database(service).url


def wait_serving(
    target: str,
    service: str,
    timeout: float = 180.0,
    process: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until the gRPC health check of `service` at target answers SERVING, over mTLS."""
    deadline = time.monotonic() + timeout
    # gRPC's reconnect backoff grows to minutes: a service that starts slowly (a busy machine)
    # would answer long after it is up. Reconnect every second at most instead.
    options = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.max_reconnect_backoff_ms", 1000)]
    with platform_pki().sync_channel(target, service, options=options) as channel:
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


def _without_kafka_passwords(env: Mapping[str, str]) -> dict[str, str]:
    """The environment minus every Kafka password: a service gets only its own."""
    return {k: v for k, v in env.items() if not k.endswith("KAFKA_PASSWORD")}


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

    def channel(self) -> grpc.aio.Channel:
        """A mutual-TLS channel to this service, as the tests' own client certificate."""
        return platform_pki().channel(self.target, self.service)

    def start(self, **extra_env: str) -> ServiceProcess:
        """Start the process and wait until it reports SERVING; it signs with this run's key
        of its service, trusts this run's keys and serves mutual TLS with this run's certificate
        of its service, unless its env says otherwise."""
        self._log = self.log_path.open("ab")
        identity = make_identity_keys().env(self.service)
        tls = platform_pki().env(self.service)
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.service],
            env={
                **_without_kafka_passwords(os.environ),
                **identity,
                **tls,
                **self.env,
                **extra_env,
            },
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_serving(self.target, self.service, process=self.process)
        except RuntimeError as died:
            self._log.flush()
            tail = self.log_path.read_text(errors="replace").splitlines()[-25:]
            raise RuntimeError(
                f"{self.service}: {died}; its log ends:\n" + "\n".join(tail)
            ) from died
        return self

    def run_command(self, *args: str, **extra_env: str) -> str:
        """Run `python -m <service> *args` (an operator's command line) with this service's
        environment, keys and certificates; its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", self.service, *args],
            env={
                **_without_kafka_passwords(os.environ),
                **make_identity_keys().env(self.service),
                **platform_pki().env(self.service),
                **self.env,
                **extra_env,
            },
            capture_output=True,
            text=True,
            timeout=300,  # a busy machine of two cores: importing alone can take a minute
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

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
        if urlsplit(database_url).username == admin_user(stack):
            raise ValueError(f"{service} must connect as its own role, not the administrator")
        port = free_port()
        prefix = f"RECOUVRA_{service.upper()}_"
        provision_kafka(stack, topic_prefix, [service])
        proc = ServiceProcess(
            service=service,
            env={
                "RECOUVRA_ENV": "development",
                **stack.kafka_env(service),
                "RECOUVRA_KAFKA_TOPIC_PREFIX": topic_prefix,
                **platform_pki().env(service),
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
