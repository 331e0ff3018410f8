"""Finding the real servers for integration and end-to-end tests.

The servers are found through environment variables (RECOUVRA_KAFKA_BOOTSTRAP,
RECOUVRA_PG_ADMIN_URL, RECOUVRA_S3_ENDPOINT, ...). When none are given, the project's own
local stack is started (deploy/local/stack.sh, real processes on 127.0.0.1). Where a Docker
engine answers and RECOUVRA_TESTCONTAINERS=1, testcontainers starts them instead.

When Kafka speaks SASL_SSL (RECOUVRA_KAFKA_SECURITY_PROTOCOL), every test talks to it as one
service's user, with the ACLs that service has in production, granted under the test's topic
prefix by `provision_kafka`; only the harness (reading topics back, deleting them) is the admin.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shlex
import shutil
import socket
import subprocess
import uuid
from collections.abc import Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import UnknownTopicOrPartitionError, for_code
from pydantic import SecretStr

from recouvra_shared.kafka_access import load_catalogue, provision, revoke
from recouvra_shared.kafka_security import KafkaConnection, SecurityProtocol

ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = ROOT / "deploy" / "local" / "stack.sh"
REQUIRED = ("RECOUVRA_KAFKA_BOOTSTRAP", "RECOUVRA_PG_ADMIN_URL", "RECOUVRA_S3_ENDPOINT")
KAFKA_CATALOGUE = ROOT / "deploy" / "kafka-access.json"
KAFKA_USERS = tuple(load_catalogue(KAFKA_CATALOGUE)["users"])
T = TypeVar("T")


@dataclass(frozen=True)
class Stack:
    """Where the real servers answer."""

    kafka_bootstrap: str
    # postgresql://user:password@host:port/postgres: for tests.support.databases alone, which
    # creates and drops each test's database and roles; no test connects as the administrator.
    pg_admin_url: str
    s3_endpoint: str
    s3_access_key: str
    s3_secret_key: str
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    kafka_ca_file: str = ""
    kafka_admin_password: str = field(default="", repr=False)
    kafka_passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def kafka_secured(self) -> bool:
        return self.kafka_security_protocol == "SASL_SSL"

    def kafka_admin(self) -> KafkaConnection:
        """The harness's own connection: reads topics back and deletes them, nothing else."""
        if not self.kafka_secured:
            return KafkaConnection(self.kafka_bootstrap)
        return KafkaConnection(
            self.kafka_bootstrap, "SASL_SSL", "admin", self.kafka_admin_password, self.kafka_ca_file
        )

    def kafka_as(self, service: str) -> KafkaConnection:
        """A service's own connection (its user, its password)."""
        if not self.kafka_secured:
            return KafkaConnection(self.kafka_bootstrap)
        return self.kafka_admin().as_user(service, self.kafka_passwords[service])

    def kafka_settings(self, service: str) -> dict[str, Any]:
        """ServiceSettings keyword arguments that connect as `service`'s Kafka user."""
        connection = self.kafka_as(service)
        return {
            "kafka_bootstrap": connection.bootstrap,
            "kafka_security_protocol": connection.security_protocol,
            "kafka_ca_file": connection.ca_file,
            "kafka_username": connection.username,
            "kafka_password": SecretStr(connection.password),
        }

    def kafka_env(self, service: str) -> dict[str, str]:
        """The environment of a service process that connects as its own Kafka user."""
        connection = self.kafka_as(service)
        env = {
            "RECOUVRA_KAFKA_BOOTSTRAP": connection.bootstrap,
            "RECOUVRA_KAFKA_SECURITY_PROTOCOL": connection.security_protocol,
            "RECOUVRA_KAFKA_CA_FILE": connection.ca_file,
        }
        if self.kafka_secured:
            env[f"RECOUVRA_{service.upper()}_KAFKA_USERNAME"] = connection.username
            env[f"RECOUVRA_{service.upper()}_KAFKA_PASSWORD"] = connection.password
        return env

    @property
    def postgres_address(self) -> str:
        """`host:port` of the stack's PostgreSQL, without any credentials (a proxy's upstream)."""
        return urlsplit(self.pg_admin_url).netloc.rpartition("@")[2]

    def on_postgres(self, address: str, superuser: str) -> Stack:
        """The same stack with another PostgreSQL server (a harness's own, at `address`), whose
        `superuser` (user:password) creates the per-test databases and roles there."""
        return dataclasses.replace(
            self, pg_admin_url=f"postgresql://{superuser}@{address}/postgres"
        )

    def database_url(
        self, name: str, role: str, password: str, driver: str = "postgresql+asyncpg"
    ) -> str:
        """The URL of database `name` on the same server, as `role` (never the administrator's:
        tests connect as the services do, tests.support.databases)."""
        host = self.postgres_address
        credentials = f"{quote(role, safe='')}:{quote(password, safe='')}"
        return urlunsplit((driver, f"{credentials}@{host}", f"/{name}", "", ""))


def _from_environment() -> Stack | None:
    if not all(os.environ.get(name) for name in REQUIRED):
        return None
    return Stack(
        kafka_bootstrap=os.environ["RECOUVRA_KAFKA_BOOTSTRAP"],
        pg_admin_url=os.environ["RECOUVRA_PG_ADMIN_URL"],
        s3_endpoint=os.environ["RECOUVRA_S3_ENDPOINT"],
        s3_access_key=os.environ.get("RECOUVRA_S3_ACCESS_KEY", ""),
        s3_secret_key=os.environ.get("RECOUVRA_S3_SECRET_KEY", ""),
        kafka_security_protocol="SASL_SSL"
        if os.environ.get("RECOUVRA_KAFKA_SECURITY_PROTOCOL") == "SASL_SSL"
        else "PLAINTEXT",
        kafka_ca_file=os.environ.get("RECOUVRA_KAFKA_CA_FILE", ""),
        kafka_admin_password=os.environ.get("RECOUVRA_KAFKA_ADMIN_PASSWORD", ""),
        kafka_passwords={
            user: os.environ.get(f"RECOUVRA_{user.upper()}_KAFKA_PASSWORD", "")
            for user in KAFKA_USERS
        },
    )


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    return probe.returncode == 0


def _start_local_stack() -> Stack:
    subprocess.run([str(STACK_SCRIPT), "start"], check=True)
    exported = subprocess.run(
        [str(STACK_SCRIPT), "env"], check=True, capture_output=True, text=True
    ).stdout
    for line in exported.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            os.environ[name] = shlex.split(value)[0] if value else ""
    stack = _from_environment()
    if stack is None:
        raise RuntimeError(f"{STACK_SCRIPT} env did not name every server: {REQUIRED}")
    return stack


def _start_testcontainers() -> Stack:  # pragma: no cover - needs a Docker engine
    from testcontainers.kafka import KafkaContainer
    from testcontainers.minio import MinioContainer
    from testcontainers.postgres import PostgresContainer

    kafka = KafkaContainer("confluentinc/cp-kafka:7.6.0").with_kraft().start()
    postgres = PostgresContainer("postgres:15", username="recouvra", password="recouvra").start()
    s3 = MinioContainer().start()
    s3_config = s3.get_config()
    host, port = postgres.get_container_host_ip(), postgres.get_exposed_port(5432)
    return Stack(
        kafka_bootstrap=kafka.get_bootstrap_server(),
        pg_admin_url=f"postgresql://recouvra:recouvra@{host}:{port}/postgres",
        s3_endpoint=s3_config["endpoint"],
        s3_access_key=s3_config["access_key"],
        s3_secret_key=s3_config["secret_key"],
    )


def find_stack() -> Stack:
    """The servers named by the environment, else testcontainers (if asked), else local."""
    stack = _from_environment()
    if stack is not None:
        return stack
    if os.environ.get("RECOUVRA_TESTCONTAINERS") == "1" and _docker_answers():
        return _start_testcontainers()
    return _start_local_stack()


# Every port free_port handed out in this run: the kernel may give the port it just released to
# the next bind, so five calls in a row for one server's five listeners once returned the same
# port twice, and that server failed to start ("bind: address already in use").
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1, and never handed out before in this
    run."""
    for _ in range(1000):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port
    raise RuntimeError("no free port the run has not handed out already")


# Every name handed out in this run: the topics that start with one are this run's to delete.
ISSUED_NAMES: list[str] = []


def unique_name(prefix: str) -> str:
    """A name no earlier test run used (databases, topic prefixes)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    ISSUED_NAMES.append(name)
    return name


def run_blocking(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from sync code, even inside a running event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work).result()


# (prefix, service) pairs granted in this run: their ACLs are revoked at its end.
PROVISIONED: list[tuple[str, str]] = []


def provision_kafka(stack: Stack, prefix: str, services: Iterable[str]) -> None:
    """As the admin, what deploy/local/stack.sh does at deploy, under a test's topic prefix:
    the services' ACLs (deploy/kafka-access.json) and their topics. Nothing on a PLAINTEXT
    Kafka, where services create their own topics and nobody is checked."""
    wanted = [s for s in dict.fromkeys(services) if (prefix, s) not in PROVISIONED]
    if not stack.kafka_secured or not wanted:
        return
    run_blocking(provision(stack.kafka_admin(), load_catalogue(KAFKA_CATALOGUE), prefix, wanted))
    PROVISIONED.extend((prefix, s) for s in wanted)


async def revoke_provisioned(stack: Stack) -> None:
    """Remove every ACL provision_kafka granted in this run."""
    catalogue = load_catalogue(KAFKA_CATALOGUE)
    for prefix in dict.fromkeys(p for p, _ in PROVISIONED):
        services = [s for p, s in PROVISIONED if p == prefix]
        await revoke(stack.kafka_admin(), catalogue, prefix, services)
    PROVISIONED.clear()


async def delete_topics_of(admin_connection: KafkaConnection, names: list[str]) -> list[str]:
    """Delete the topics whose names start with one of `names`; returns the deleted ones.

    Each test's topics carry a unique prefix, and a long-lived local Kafka that keeps them all
    runs out of memory after a few thousand runs' worth of partitions.
    """
    if not names:
        return []
    admin = AIOKafkaAdminClient(**admin_connection.client_options())
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(tuple(names))]
        if not doomed:
            return []
        response = await admin.delete_topics(doomed)
    finally:
        await admin.close()
    # A topic gone between the listing and the deletion (its test deleted it, or another
    # clean-up did) is what was wanted; any other refusal is named rather than left to pile up.
    refused = {
        topic: for_code(code).__name__
        for topic, code in response.topic_error_codes
        if code and for_code(code) is not UnknownTopicOrPartitionError
    }
    if refused:
        raise RuntimeError(f"kafka refused to delete topics: {refused}")
    return [topic for topic, code in response.topic_error_codes if not code]


@contextmanager
def topics_deleted_after(stack: Stack) -> Iterator[None]:
    """Delete, on leaving, the topics under every name `unique_name` issued inside.

    The per-test fixture (`tests/support/fixtures.py`) wraps each test that uses the stack in
    it, so a test run no longer fills the long-lived local Kafka.
    """
    first = len(ISSUED_NAMES)
    try:
        yield
    finally:
        issued = ISSUED_NAMES[first:]
        if issued:
            run_blocking(delete_topics_of(stack.kafka_admin(), issued))
