"""Finding the real servers for integration and end-to-end tests.

The servers are found through environment variables (RECOUVRA_KAFKA_BOOTSTRAP,
RECOUVRA_PG_ADMIN_URL, RECOUVRA_S3_ENDPOINT, ...). When none are given, the project's own
local stack is started (deploy/local/stack.sh, real processes on 127.0.0.1). Where a Docker
engine answers and RECOUVRA_TESTCONTAINERS=1, testcontainers starts them instead.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from aiokafka.admin import AIOKafkaAdminClient

ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = ROOT / "deploy" / "local" / "stack.sh"
REQUIRED = ("RECOUVRA_KAFKA_BOOTSTRAP", "RECOUVRA_PG_ADMIN_URL", "RECOUVRA_S3_ENDPOINT")


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

    def database_url(
        self, name: str, role: str, password: str, driver: str = "postgresql+asyncpg"
    ) -> str:
        """The URL of database `name` on the same server, as `role` (never the administrator's:
        tests connect as the services do, tests.support.databases)."""
        host = urlsplit(self.pg_admin_url).netloc.rpartition("@")[2]
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


def free_port() -> int:
    """A TCP port nobody listens on right now, on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Every name handed out in this run: the topics that start with one are this run's to delete.
ISSUED_NAMES: list[str] = []


def unique_name(prefix: str) -> str:
    """A name no earlier test run used (databases, topic prefixes)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    ISSUED_NAMES.append(name)
    return name


async def delete_topics_of(bootstrap: str, names: list[str]) -> list[str]:
    """Delete the topics whose names start with one of `names`; returns the deleted ones.

    Each test's topics carry a unique prefix, and a long-lived local Kafka that keeps them all
    runs out of memory after a few thousand runs' worth of partitions.
    """
    if not names:
        return []
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(tuple(names))]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()
