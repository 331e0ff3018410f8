"""The system under chaos: intake, scoring, matching, settlement and the gateway as processes,
each on a database of its own reached through toxiproxy, under one topic prefix; matching on a
test clock.

Only the harness's own things are ever killed: these service processes, the proxy links and the
harness's own PostgreSQL server (tests/chaos/own_postgres.py). The shared dev stack's Kafka and
S3 stay up (other engineers use them)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import grpc

from messaging.adapters.calendar import FrenchHolidays
from recouvra.settlement.v1 import settlement_pb2 as spb
from recouvra.settlement.v1 import settlement_pb2_grpc as spb_grpc
from tests.chaos.driver import ACCEPTED, REFUSED
from tests.chaos.own_kafka import OwnKafka
from tests.chaos.own_postgres import OwnPostgres
from tests.chaos.own_seaweed import OwnSeaweed
from tests.chaos.proxy import Toxiproxy
from tests.support.databases import ServiceDatabase, create_service_database, drop_service_database
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.marketplace import OffsetClock
from tests.support.processes import service
from tests.support.stack import PROVISIONED, Stack, delete_topics_of, free_port, unique_name

# The postal addresses of letters' parties, until a service serves them (messaging's parties file).
ADDRESS = {"address_lines": ["4 place Bellecour"], "postal_code": "69002", "city": "Lyon"}

SERVICES = ("intake", "scoring", "matching", "settlement", "vault", "messaging", "gateway")
PARIS = ZoneInfo("Europe/Paris")


def weekday_11h_paris(now: datetime) -> datetime:
    """The next weekday that is no French public holiday, 11:00 in Paris: a time when the
    contact limits let a first letter go at once (messaging's clock starts there)."""
    holidays, day = FrenchHolidays(), now.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() > 4 or holidays(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(11), PARIS)


# What an operator would not retry: the file or the request is wrong, not the system down.
REFUSALS = (
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.NOT_FOUND,
)


def through(url: str, port: int) -> str:
    """The same database URL, reached on 127.0.0.1:port (the proxy) instead."""
    parts = urlsplit(url)
    credentials = parts.netloc.rpartition("@")[0]
    return urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))


@dataclass
class World:
    stack: Stack
    workdir: Path
    proxy: Toxiproxy
    prefix: str = field(default_factory=lambda: unique_name("chaos") + ".")
    databases: dict[str, ServiceDatabase] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    clock: OffsetClock | None = None  # matching's
    messaging_clock: OffsetClock | None = None
    postgres: OwnPostgres | None = None  # the PostgreSQL `stack` names, when the harness's own
    kafka: OwnKafka | None = None  # the Kafka broker `stack` names, when the harness's own
    seaweed: OwnSeaweed | None = None  # the S3 `stack` names, when the harness's own

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def direct_url(self, name: str) -> str:
        """A service's database as the harness reads it: straight, not through the proxy."""
        return self.databases[name].url

    async def build(self, env: dict[str, dict[str, str]] | None = None) -> None:
        """Databases (migrated), one proxy link per service to PostgreSQL, the processes
        configured (not started)."""
        env = env or {}
        self.clock = OffsetClock(self.workdir / "matching-clock-offset")
        self.messaging_clock = messaging_clock = OffsetClock(self.workdir / "messaging-clock")
        now = datetime.now(UTC)
        messaging_clock.advance(weekday_11h_paris(now) - now)
        postgres = self.stack.postgres_address
        for name in SERVICES:
            database = await create_service_database(self.stack, name)
            self.databases[name] = database
            await asyncio.to_thread(database.migrate)
            port = self.proxy.link(f"{name}-postgres", postgres)
            extra = dict(env.get(name, {}))
            if name == "matching":
                extra |= {"clock_offset_file": str(self.clock.path), "timer_poll_seconds": "0.2"}
            if name == "scoring":  # asks intake for a business debtor's SIREN (issue 12)
                extra |= {"intake_target": self.processes["intake"].target}
            if name == "settlement":  # reads debtors' names of intake for its suspense queue
                extra |= {
                    "intake_target": self.processes["intake"].target,
                    # no Bridge listens there: letters go without a payment link (issue 20)
                    "bridge_api_url": f"http://127.0.0.1:{free_port()}",
                }
            if name == "vault":  # on the stack's SeaweedFS, in buckets of the run's own
                extra |= {
                    "bucket": unique_name("chaos-vault").replace("_", "-"),
                    "audit_anchor_bucket": unique_name("chaos-audit").replace("_", "-"),
                    "key_file": str(self.workdir / "vault-keys.json"),
                    # checkpoints signed and anchored on S3 within the run, not every 5 minutes
                    "audit_checkpoint_every": "25",
                    "audit_checkpoint_seconds": "10",
                    "s3_endpoint": self.stack.s3_endpoint,
                    "s3_access_key": self.stack.s3_access_key,
                    "s3_secret_key": self.stack.s3_secret_key,
                }
            if name == "messaging":
                extra |= {
                    "intake_target": self.processes["intake"].target,
                    "settlement_target": self.processes["settlement"].target,
                    "vault_target": self.processes["vault"].target,
                    "parties_file": str(self.parties_file),
                    "letters_dir": str(self.workdir / "letters"),
                    "clock_offset_file": str(messaging_clock.path),
                    "timer_poll_seconds": "0.2",
                }
            if name == "gateway":
                extra |= {
                    "http_port": str(self.http_port),
                    **{f"{s}_target": self.processes[s].target for s in SERVICES if s != name},
                }
            self.processes[name] = service(
                self.stack, name, through(database.url, port), self.prefix, self.workdir, **extra
            )
            # A service's log keeps INFO: the harness reads why a process died.
            self.processes[name].env["RECOUVRA_LOG_LEVEL"] = "INFO"

    @property
    def parties_file(self) -> Path:
        return self.workdir / "parties.json"

    def list_parties(self, providers: list[str], creditors: list[str]) -> None:
        """The operator lists the run's providers and creditors for letters (messaging reads
        the file at each letter)."""
        entry = {"country_code": "FR", **ADDRESS}
        parties = {
            "providers": {p: {"name": f"Etude {p[:8]}", **entry} for p in providers},
            "creditors": {c: {"name": f"Creditor {c[:8]}", **entry} for c in creditors},
        }
        self.parties_file.write_text(json.dumps(parties))

    def advance_clocks(self, delta: timedelta) -> None:
        """Matching's and messaging's test clocks jump forward together."""
        assert self.clock is not None
        assert self.messaging_clock is not None
        self.clock.advance(delta)
        self.messaging_clock.advance(delta)

    async def ask_settlement(
        self,
        method: Callable[[grpc.aio.Channel], Callable[..., Awaitable[Any]]],
        request: Any,
        *,
        operator: str = "chaos-operator",
        within: float = 300,
    ) -> tuple[Any, int]:
        """One operator's request over settlement's gRPC (as the e2e tests make it), asked
        again while settlement does not answer; the reply, or the refusal (an `AioRpcError` of
        `REFUSALS`), and how many times it was asked again."""
        deadline, retried = asyncio.get_running_loop().time() + within, 0
        settlement = self.processes["settlement"]
        while True:
            try:
                async with settlement.channel() as channel:
                    return await method(channel)(
                        request,
                        metadata=as_person("settlement", "operator", "", operator),
                        timeout=60,
                    ), retried
            except grpc.aio.AioRpcError as error:
                if error.code() in REFUSALS:
                    return error, retried
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"settlement did not answer {request!r:.80} within {within} s")
            retried += 1
            await asyncio.sleep(0.5)

    async def import_statement(self, content: bytes) -> tuple[str, int]:
        """A bank file imported by an operator: accepted or refused, and the retries."""
        answer, retried = await self.ask_settlement(
            lambda channel: spb_grpc.SettlementServiceStub(channel).ImportStatement,
            spb.ImportStatementRequest(content=content),
        )
        return (REFUSED if isinstance(answer, grpc.aio.AioRpcError) else ACCEPTED), retried

    async def start(self) -> None:
        for name in SERVICES:
            await asyncio.to_thread(self.processes[name].start)

    async def tear_down(self) -> None:
        for process in self.processes.values():
            process.kill()
        if self.postgres is None:  # the harness's own server is stopped and deleted instead
            for database in self.databases.values():
                await drop_service_database(self.stack, database)
        if self.kafka is None:
            await delete_topics_of(self.stack.kafka_admin(), [self.prefix.rstrip(".")])
        else:  # its ACLs went with the harness's own broker: nothing to revoke on the shared one
            PROVISIONED[:] = [p for p in PROVISIONED if p[0] != self.prefix]
