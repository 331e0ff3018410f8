"""Case intake through the gateway: submissions/s and latency, CSV import time, raw PG rate.

    python services/intake/bench/bench_intake.py [--submissions N] [--concurrency C]
        [--rows N] [--quick]

Everything is measured in one run, against real processes on the local stack: a fresh,
migrated database each for intake and the gateway, `python -m intake` and `python -m gateway`
on free ports, one creditor signed up and logged in (bearer access token). Both processes are
stopped and both databases dropped at the end.

1. Submissions: N `POST /v1/cases` (one company debtor, one invoice, a fresh Idempotency-Key)
   from C concurrent clients through the gateway's REST API (-> intake gRPC -> PostgreSQL +
   outbox); throughput and p50/p99 latency, after a short warm-up.
   Its raw baseline: the same N cases committed straight into PostgreSQL by C connections, one
   durable transaction per case (case row, invoice line, outbox row; synchronous_commit as the
   database has it), into scratch copies of those tables. Then submissions started on a fixed
   schedule at half that raw rate (open loop: each latency runs from its scheduled start, so a
   gateway that falls behind shows it), for issue 17's p99 target.
2. CSV import: one file of N rows (one case per row, all valid) uploaded to
   `POST /v1/cases/imports`; the time until the whole per-row report is back, and the
   resident memory of the gateway and intake processes during it (peak minus before, and the
   peak itself against the memory limit of their Kubernetes containers, judged for a file of
   the most rows intake takes, as `make bench` sends).
3. Raw PostgreSQL: the rows the import wrote, each case's row, invoice line, outbox row and
   timeline entry, built beforehand and written with COPY into copies of the same four
   tables (same columns and indexes) in intake's database, in one transaction: the CSV
   target's baseline ("COPY into the same tables"). Beside it, for the runs before session
   26, which compared with them alone: the cases and invoice lines alone, with COPY and with
   executemany INSERTs. Then the headroom: the same file read with csv.reader, its four
   tables' rows built and COPYed, nothing checked, in one pass: what any import that
   validates nothing reaches here, beside the target's 0.3.
4. A backlog of matching's facts: for each of the N cases submitted in 1, a quote issued, the
   case assigned and the case rotated (3N events) produced at once on matching's topics, as
   after an outage of intake or an operator's replay; the time until intake has handled every
   one (its inbox holds their ids), and intake's CPU per fact. Each fact moves its case and
   goes on its timeline (the run fails unless every fact is there and every case rotated); the
   inbox consumer handles a backlog many facts per transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg
import httpx
import yaml
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from intake.domain.csv_import import MAX_ROWS
from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1 import assignment_events_pb2 as assignment
from recouvra.events.v1 import matching_events_pb2 as matching
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.events import new_event
from recouvra_shared.ids import uuid4_texts
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.bench_table import Row as BenchRow
from tests.support.bench_table import Target, report
from tests.support.databases import ServiceDatabase, discard, provision
from tests.support.fixtures import ServiceProcess
from tests.support.open_loop import offer
from tests.support.processes import service, wait_http
from tests.support.stack import find_stack, free_port, topics_deleted_after, unique_name

PASSWORD = "correct horse battery staple"
# Valid SIRENs (check digit verified by intake): debtors rotate through them.
# The creditor's own SIREN: a company creditor gives it before its first case.
CREDITOR_SIREN = "443061841"
SIRENS = ["552032534", "552100554", "732829320", "542051180", "775670417"]
CSV_COLUMNS = [
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "amount_due",
    "description",
    "debtor_kind",
    "debtor_name",
    "debtor_siren_or_siret",
    "debtor_postal_code",
    "debtor_city",
    "notes",
]


# The columns of intake's `cases` and `invoice_lines` the raw baselines write.
CASE_COLUMNS = (
    "case_id",
    "creditor_id",
    "debtor_name",
    "debtor_is_business",
    "invoice_number",
    "currency",
    "amount_minor",
    "issue_date",
    "due_date",
    "disputed",
    "status",
    "debtor",
    "debtor_key",
    "debtor_siren",
    "notes",
    "source",
)
LINE_COLUMNS = (
    "case_id",
    "creditor_id",
    "debtor_key",
    "position",
    "invoice_number",
    "issue_date",
    "due_date",
    "amount_due_minor",
    "total_minor",
    "description",
)


@dataclass(frozen=True)
class Row:
    """One simulated unpaid invoice (= one case)."""

    invoice_number: str
    issue_date: date
    due_date: date
    amount_minor: int
    debtor_name: str
    siren: str

    @property
    def amount(self) -> str:
        return f"{self.amount_minor // 100}.{self.amount_minor % 100:02d}"


def simulated_rows(count: int, label: str) -> Iterator[Row]:
    """Deterministic invoices, due 1 to 300 days ago, each number unique within `label`."""
    today = datetime.now(UTC).date()
    for i in range(count):
        due = today - timedelta(days=1 + i % 300)
        yield Row(
            invoice_number=f"{label}-{i:06d}",
            issue_date=due - timedelta(days=30),
            due_date=due,
            amount_minor=10_000 + (i * 7919) % 900_000,
            debtor_name=f"Debiteur {i % 997} SAS",
            siren=SIRENS[i % len(SIRENS)],
        )


def case_body(row: Row) -> dict[str, object]:
    return {
        "debtor": {"kind": "company", "name": row.debtor_name, "siren_or_siret": row.siren},
        "invoices": [
            {
                "invoice_number": row.invoice_number,
                "issue_date": row.issue_date.isoformat(),
                "due_date": row.due_date.isoformat(),
                "amount_due": {"amount": row.amount, "currency": "EUR"},
            }
        ],
        "notes": "Two reminders by e-mail, no answer.",
    }


def csv_file(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.invoice_number,
                row.issue_date.isoformat(),
                row.due_date.isoformat(),
                "EUR",
                row.amount,
                "Maintenance contract",
                "company",
                row.debtor_name,
                row.siren,
                "69002",
                "Lyon",
                "Second reminder sent",
            ]
        )
    return out.getvalue().encode()


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else 0


async def sign_up(client: httpx.AsyncClient) -> dict[str, str]:
    """A new creditor company (its SIREN given), logged in: the bearer header every call of the
    run sends."""
    email = f"{unique_name('bench')}@example.fr"
    signed = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": "Atelier Bench",
            "siren": CREDITOR_SIREN,
            "email": email,
            "password": PASSWORD,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    signed.raise_for_status()
    login = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def submissions(
    client: httpx.AsyncClient, auth: dict[str, str], count: int, concurrency: int
) -> tuple[list[float], float]:
    """Per-request seconds of `count` case submissions from `concurrency` clients, and the
    wall time of the whole batch."""

    async def submit(row: Row) -> float:
        started = time.perf_counter()
        answer = await client.post(
            "/v1/cases",
            json=case_body(row),
            headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
        )
        elapsed = time.perf_counter() - started
        if answer.status_code != 201:
            raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")
        return elapsed

    for row in simulated_rows(min(20, count), "WARM"):
        await submit(row)
    queue = list(simulated_rows(count, "API"))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            latencies.append(await submit(queue.pop()))

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, time.perf_counter() - started


async def scheduled_submissions(
    client: httpx.AsyncClient, auth: dict[str, str], count: int, rate: float
) -> tuple[list[float], int]:
    """Per-request seconds of `count` submissions started `rate` per second on a fixed
    schedule, each measured from its scheduled start; and how many failed."""

    async def submit(row: Row) -> None:
        answer = await client.post(
            "/v1/cases",
            json=case_body(row),
            headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
        )
        if answer.status_code != 201:
            raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")

    scheduled = await offer(simulated_rows(count, "OPEN"), rate, submit)
    if scheduled.failures:
        print(
            f"{len(scheduled.failures)} of {count} scheduled submissions failed, "
            f"first: {scheduled.failures[0]!r}"
        )
    return scheduled.latencies, len(scheduled.failures)


def process_id(process: ServiceProcess) -> int:
    assert process.process is not None, "started"
    return process.process.pid


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """The process's resident set size now."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class RssPeak:
    """The peak resident memory of some processes, sampled every 20 ms while in the block."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.before = {name: rss_bytes(pid) for name, pid in pids.items()}
        self.peak = dict(self.before)
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.peak[name] = max(self.peak[name], rss_bytes(pid))
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> RssPeak:
        self._task = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def growth_mib(self, name: str) -> float:
        return (self.peak[name] - self.before[name]) / 2**20

    def peak_mib(self, name: str) -> float:
        return self.peak[name] / 2**20


def k8s_memory_limit_mib(service: str) -> float:
    """The memory limit of the service's own container in k8s/base (Mi or Gi)."""
    manifest = Path(__file__).resolve().parents[3] / "k8s" / "base" / f"{service}.yaml"
    for document in yaml.safe_load_all(manifest.read_text()):
        if document and document["kind"] == "Deployment":
            for container in document["spec"]["template"]["spec"]["containers"]:
                if container["name"] == service:
                    limit = str(container["resources"]["limits"]["memory"])
                    return float(limit[:-2]) * (1024 if limit.endswith("Gi") else 1)
    raise LookupError(f"no memory limit for {service} in {manifest}")


async def csv_import(client: httpx.AsyncClient, auth: dict[str, str], rows: list[Row]) -> float:
    """Seconds from the start of the upload to the complete per-row report."""
    content = csv_file(rows)
    started = time.perf_counter()
    answer = await client.post(
        "/v1/cases/imports",
        files={"file": ("cases.csv", content, "text/csv")},
        headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
        timeout=900,
    )
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise RuntimeError(f"import refused: {answer.status_code} {answer.text[:2000]}")
    report = answer.json()
    if report["accepted"] != len(rows):
        refused = [r for r in report["report"] if not r["accepted"]][:3]
        raise RuntimeError(f"{report['refused']} of {len(rows)} rows refused, e.g. {refused}")
    return elapsed


def _raw_url(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg", "postgresql")


async def raw_transactions(database_url: str, rows: list[Row], concurrency: int) -> float:
    """Seconds for `concurrency` connections to commit `rows` as cases into scratch copies of
    intake's `cases`, `invoice_lines` and `outbox`: one transaction per case (its case row,
    invoice line and outbox row), each durable as the database commits (its own
    synchronous_commit), prepared statements: what a submission needs PostgreSQL to do."""
    url = _raw_url(database_url)
    setup = await asyncpg.connect(url)
    try:
        for table in ("cases", "invoice_lines", "outbox"):
            await setup.execute(
                f"CREATE TABLE durable_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
    finally:
        await setup.close()
    creditor = str(uuid.uuid4())
    queue = list(rows)
    pool = await asyncpg.create_pool(url, min_size=concurrency, max_size=concurrency)
    case_sql = (
        "INSERT INTO durable_cases (case_id, creditor_id, debtor_name, debtor_is_business,"
        " invoice_number, currency, amount_minor, issue_date, due_date, disputed, status,"
        " debtor, debtor_key, debtor_siren, notes, source)"
        " VALUES ($1, $2, $3, true, $4, 'EUR', $5, $6, $7, false, 'submitted', $8, $9, $10,"
        " $11, 'api')"
    )
    line_sql = (
        "INSERT INTO durable_invoice_lines (case_id, creditor_id, debtor_key, position,"
        " invoice_number, issue_date, due_date, amount_due_minor)"
        " VALUES ($1, $2, $3, 0, $4, $5, $6, $7)"
    )
    outbox_sql = (
        "INSERT INTO durable_outbox (event_id, topic, key, payload, headers)"
        " VALUES ($1, 'intake.case-submitted.v1', $2, $3, '{}')"
    )

    async def worker() -> None:
        async with pool.acquire() as connection:
            while queue:
                row = queue.pop()
                case_id = str(uuid.uuid4())
                debtor_key = f"siren:{row.siren}"
                async with connection.transaction():
                    await connection.execute(
                        case_sql,
                        case_id,
                        creditor,
                        row.debtor_name,
                        row.invoice_number,
                        row.amount_minor,
                        row.issue_date,
                        row.due_date,
                        json.dumps({"kind": "company", "name": row.debtor_name}),
                        debtor_key,
                        row.siren,
                        "Two reminders by e-mail, no answer.",
                    )
                    await connection.execute(
                        line_sql,
                        case_id,
                        creditor,
                        debtor_key,
                        row.invoice_number,
                        row.issue_date,
                        row.due_date,
                        row.amount_minor,
                    )
                    await connection.execute(outbox_sql, uuid.uuid4(), case_id, os.urandom(200))

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started
    finally:
        await pool.close()


async def raw_inserts(database_url: str, rows: list[Row]) -> tuple[float, float]:
    """Seconds to write `rows` as cases + invoice lines straight into PostgreSQL: with COPY,
    then with executemany INSERTs, each in one transaction. `database_url` is the schema
    owner's: the raw tables are made for the comparison, which the runtime role may not do."""
    connection = await asyncpg.connect(_raw_url(database_url))
    creditor = str(uuid.uuid4())
    try:
        for table in ("cases", "invoice_lines"):
            await connection.execute(
                f"CREATE TABLE raw_{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
        cases = [
            (
                str(uuid.uuid4()),
                creditor,
                row.debtor_name,
                True,
                row.invoice_number,
                "EUR",
                row.amount_minor,
                row.issue_date,
                row.due_date,
                False,
                "submitted",
                json.dumps({"kind": "company", "name": row.debtor_name, "siren": row.siren}),
                f"siren:{row.siren}",
                row.siren,
                "Second reminder sent",
                "csv",
            )
            for row in rows
        ]
        lines = [
            (
                case[0],
                creditor,
                case[12],
                0,
                row.invoice_number,
                row.issue_date,
                row.due_date,
                row.amount_minor,
                None,
                "Maintenance contract",
            )
            for case, row in zip(cases, rows, strict=True)
        ]

        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table(
                "raw_cases", records=cases, columns=list(CASE_COLUMNS)
            )
            await connection.copy_records_to_table(
                "raw_invoice_lines", records=lines, columns=list(LINE_COLUMNS)
            )
        copy_seconds = time.perf_counter() - started
        await connection.execute("TRUNCATE raw_cases, raw_invoice_lines")

        def insert(table: str, columns: list[str]) -> str:
            values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            # Table and column names are this module's constants, never input.
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608

        started = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(insert("raw_cases", list(CASE_COLUMNS)), cases)
            await connection.executemany(insert("raw_invoice_lines", list(LINE_COLUMNS)), lines)
        insert_seconds = time.perf_counter() - started
    finally:
        await connection.close()
    return copy_seconds, insert_seconds


IMPORT_TABLES = ("cases", "invoice_lines", "outbox", "timeline")
IMPORT_COLUMNS = (
    CASE_COLUMNS,
    LINE_COLUMNS,
    ("event_id", "topic", "key", "payload", "headers"),
    ("case_id", "occurred_at", "source", "event_type", "summary", "event_id"),
)


def bare_records(content: bytes) -> tuple[list[tuple[object, ...]], ...]:
    """The rows intake's import writes for each case of `content` (case, invoice line, outbox
    row with its case-submitted envelope, timeline entry), one list per table of
    IMPORT_TABLES, built with nothing checked: the file read with csv.reader, each value taken
    as it is."""
    creditor, now = str(uuid.uuid4()), datetime.now(UTC)
    occurred = Timestamp()
    occurred.FromDatetime(now)
    reader = csv.reader(io.StringIO(content.decode()))
    column = {name: i for i, name in enumerate(next(reader))}
    cases: list[tuple[object, ...]] = []
    lines: list[tuple[object, ...]] = []
    outbox: list[tuple[object, ...]] = []
    timeline: list[tuple[object, ...]] = []
    for values in reader:
        case_id, event_id = uuid4_texts(2)
        name, siren = values[column["debtor_name"]], values[column["debtor_siren_or_siret"]]
        number, amount = values[column["invoice_number"]], values[column["amount_due"]]
        issued = date.fromisoformat(values[column["issue_date"]])
        due = date.fromisoformat(values[column["due_date"]])
        minor, key = int(Decimal(amount).scaleb(2)), f"siren:{siren}"
        debtor = json.dumps({"kind": "company", "name": name, "siren": siren})
        cases.append(
            (
                case_id,
                creditor,
                name,
                True,
                number,
                "EUR",
                minor,
                issued,
                due,
                False,
                "submitted",
                debtor,
                key,
                siren,
                values[column["notes"]],
                "csv",
            )
        )
        lines.append(
            (
                case_id,
                creditor,
                key,
                0,
                number,
                issued,
                due,
                minor,
                None,
                values[column["description"]],
            )
        )
        payload = CaseSubmitted(
            case_id=case_id,
            creditor_id=creditor,
            debtor_is_business=True,
            issue_date=issued.isoformat(),
            due_date=due.isoformat(),
            invoice_count=1,
            source="csv",
            debtor_key=key,
        )
        payload.amount.currency, payload.amount.minor_units = "EUR", minor
        envelope = EventEnvelope(
            event_id=event_id,
            event_type="case-submitted",
            version=1,
            occurred_at=occurred,
            case_id=case_id,
            tenant_id=creditor,
            producer="intake",
        )
        envelope.payload.Pack(payload)
        outbox.append(
            (
                event_id,
                "intake.case-submitted.v1",
                case_id,
                envelope.SerializeToString(),
                '{"event-type": "case-submitted"}',
            )
        )
        summary = f"case submitted (csv): 1 invoice(s), {amount} EUR owed by {name}"
        timeline.append((case_id, now, "intake", "case-submitted", summary, event_id))
    return cases, lines, outbox, timeline


@contextlib.asynccontextmanager
async def scratch_tables(database_url: str, prefix: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the schema owner, with empty copies of the import's tables (same
    columns, defaults and indexes) named `prefix` + table, dropped at the end."""
    connection = await asyncpg.connect(_raw_url(database_url))
    try:
        for table in IMPORT_TABLES:
            await connection.execute(
                f"CREATE TABLE {prefix}{table} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
            )
        yield connection
    finally:
        for table in IMPORT_TABLES:
            await connection.execute(f"DROP TABLE IF EXISTS {prefix}{table}")
        await connection.close()


async def copy_import_tables(
    connection: asyncpg.Connection, prefix: str, records: tuple[list[tuple[object, ...]], ...]
) -> None:
    """COPY `records` (as `bare_records` gives them) into the scratch tables, one transaction."""
    async with connection.transaction():
        for table, rows, names in zip(IMPORT_TABLES, records, IMPORT_COLUMNS, strict=True):
            await connection.copy_records_to_table(
                f"{prefix}{table}", records=rows, columns=list(names)
            )


async def raw_import_copy(database_url: str, content: bytes) -> float:
    """Seconds for PostgreSQL to take the rows an import of `content` writes (each case's row,
    invoice line, outbox row and timeline entry), built beforehand, with COPY into copies of
    the same four tables in one transaction: the CSV target's baseline, "COPY into the same
    tables"."""
    records = bare_records(content)
    async with scratch_tables(database_url, "raw_import_") as connection:
        started = time.perf_counter()
        await copy_import_tables(connection, "raw_import_", records)
        return time.perf_counter() - started


async def unvalidated_import(database_url: str, content: bytes) -> float:
    """Seconds for the least an import must do with `content`, nothing checked: read it, build
    the rows intake's import writes (`bare_records`), then COPY them into copies of the four
    tables in one transaction. What any import that validates nothing, in one pass, reaches
    on this machine: the CSV target's headroom, measured in the same run."""
    async with scratch_tables(database_url, "bare_") as connection:
        started = time.perf_counter()
        await copy_import_tables(connection, "bare_", bare_records(content))
        return time.perf_counter() - started


def matching_facts(case_id: str) -> list[tuple[str, Message]]:
    """What matching says of a case in its first round: quoted, assigned, then rotated."""
    ends = Timestamp()
    ends.FromDatetime(datetime.now(UTC) + timedelta(days=30))
    return [
        ("quote-issued", matching.QuoteIssued(case_id=case_id, round=1, provider_id="bench-p")),
        (
            "case-assigned",
            assignment.CaseAssigned(
                case_id=case_id,
                provider_id="bench-p",
                round=1,
                window_ends_at=ends,
                success_fee=Percentage(basis_points=1200),
                fixed_fee=Money(currency="EUR", minor_units=0),
            ),
        ),
        (
            "case-rotated",
            assignment.CaseRotated(case_id=case_id, from_provider_id="bench-p", round=1),
        ),
    ]


async def fact_backlog(
    kafka: KafkaConnection, prefix: str, intake_owner_url: str, intake_pid: int
) -> tuple[int, float, float, float]:
    """Produce matching's facts about every case intake holds at once, then wait until intake
    handled them all: (facts, seconds to produce them, seconds until all handled, intake's CPU
    ms per fact)."""
    connection = await asyncpg.connect(_raw_url(intake_owner_url))
    try:
        held = await connection.fetch("SELECT case_id::text, creditor_id FROM cases")
        events = [
            new_event(
                producer="matching",
                event_type=event_type,
                version=1,
                case_id=row["case_id"],
                tenant_id=row["creditor_id"],
                payload=fact,
            )
            for row in held
            for event_type, fact in matching_facts(row["case_id"])
        ]
        ids = [uuid.UUID(e.envelope.event_id) for e in events]
        producer = AIOKafkaProducer(
            **kafka.client_options(), enable_idempotence=True, acks="all", linger_ms=5
        )
        await producer.start()
        cpu_before, started = cpu_seconds(intake_pid), time.perf_counter()
        try:
            for event in events:
                await producer.send(
                    prefix + event.topic,
                    event.envelope.SerializeToString(),
                    key=event.envelope.case_id.encode(),
                )
            await producer.flush()
            produced = time.perf_counter() - started
        finally:
            await producer.stop()
        handled = 0
        while handled < len(ids):
            await asyncio.sleep(0.2)
            handled = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE event_id = ANY($1::uuid[])", ids
            )
            if time.perf_counter() - started > 600:
                raise TimeoutError(f"intake handled {handled} of {len(ids)} facts in 10 minutes")
        seconds = time.perf_counter() - started
        cpu_ms = (cpu_seconds(intake_pid) - cpu_before) * 1000 / len(ids)
        # Handled means noted: each fact on its case's timeline, each case rotated.
        noted = await connection.fetchval(
            "SELECT count(*) FROM timeline WHERE event_id = ANY($1::uuid[])", ids
        )
        rotated = await connection.fetchval("SELECT count(*) FROM cases WHERE status = 'rotated'")
        if (noted, rotated) != (len(ids), len(held)):
            raise AssertionError(
                f"intake noted {noted} of {len(ids)} facts, rotated {rotated} of {len(held)} cases"
            )
    finally:
        await connection.close()
    return len(ids), produced, seconds, cpu_ms


async def run(
    args: argparse.Namespace,
    url: str,
    intake_owner_url: str,
    pids: dict[str, int],
    kafka: KafkaConnection,
    prefix: str,
) -> None:
    async with httpx.AsyncClient(
        base_url=url,
        timeout=60,
        limits=httpx.Limits(max_connections=max(args.concurrency + 2, 256)),
    ) as client:
        auth = await sign_up(client)
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        latencies, wall = await submissions(client, auth, args.submissions, args.concurrency)
        submit_cpu_ms = {
            name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / args.submissions
            for name, pid in pids.items()
        }
        rate = args.submissions / wall
        print(
            f"case submissions (POST /v1/cases through the gateway REST API -> intake gRPC, "
            f"bearer token, concurrency {args.concurrency}, {args.submissions} requests): "
            f"{rate:.0f} cases/s  p50 {percentile(latencies, 50) * 1000:.1f} ms"
            f"  p99 {percentile(latencies, 99) * 1000:.1f} ms; CPU per case: gateway "
            f"{submit_cpu_ms['gateway']:.2f} ms, intake {submit_cpu_ms['intake']:.2f} ms"
        )
        raw_seconds = await raw_transactions(
            intake_owner_url, list(simulated_rows(args.submissions, "RAW")), args.concurrency
        )
        raw_rate = args.submissions / raw_seconds
        print(
            f"raw PostgreSQL, same {args.submissions} cases, one durable transaction each (case, "
            f"invoice line, outbox row), concurrency {args.concurrency}: {raw_rate:.0f} cases/s "
            f"(submission is {rate / raw_rate:.1%} of it)"
        )
        # Before the open-loop run and the import add cases: the backlog is about the cases of 1.
        facts, produce_seconds, backlog_seconds, fact_cpu_ms = await fact_backlog(
            kafka, prefix, intake_owner_url, pids["intake"]
        )
        print(
            f"matching's facts from a backlog ({facts} facts, three for each case submitted): "
            f"handled by intake in {backlog_seconds:.1f} s ({facts / backlog_seconds:.0f} "
            f"facts/s; produced in {produce_seconds:.1f} s), intake CPU {fact_cpu_ms:.3f} ms "
            "per fact"
        )
        offered = raw_rate / 2
        scheduled_count = max(50, min(args.submissions, int(offered * 10)))
        open_latencies, failed = await scheduled_submissions(client, auth, scheduled_count, offered)
        # A failed submission has no latency: the row then says infinite rather than leave
        # it out of the percentile.
        open_p99 = percentile(open_latencies, 99) * 1000 if not failed else float("inf")
        print(
            f"case submissions at a fixed {offered:.0f} cases/s offered (half the raw rate), "
            f"{scheduled_count} requests, latency from the scheduled start: "
            f"p50 {percentile(open_latencies, 50) * 1000:.1f} ms  p99 {open_p99:.1f} ms"
            + (f", {failed} failed" if failed else "")
        )
        rows = list(simulated_rows(args.rows, "CSV"))
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        async with RssPeak(pids) as memory:
            import_seconds = await csv_import(client, auth, rows)
        # CPU per row does not depend on how busy the shared machine is, as the rate does.
        cpu_ms = {
            name: (cpu_seconds(pid) - cpu_before[name]) * 1000 / len(rows)
            for name, pid in pids.items()
        }
    import_rate = len(rows) / import_seconds
    scope = f"{len(rows):,}-row CSV"
    print(
        f"CSV import of a {scope} through POST /v1/cases/imports: {import_seconds:.1f} s "
        f"({import_rate:.0f} rows/s, every row accepted); RSS growth: gateway "
        f"{memory.growth_mib('gateway'):.0f} MiB, intake {memory.growth_mib('intake'):.0f} MiB; "
        f"CPU per row: gateway {cpu_ms['gateway']:.3f} ms, intake {cpu_ms['intake']:.3f} ms"
    )
    content = csv_file(rows)
    table_copy_rate = len(rows) / await raw_import_copy(intake_owner_url, content)
    print(
        f"raw PostgreSQL, the same {len(rows):,} cases' rows (case, invoice line, outbox row, "
        f"timeline entry) built beforehand, COPY into copies of the import's four tables: "
        f"{table_copy_rate:.0f} rows/s"
    )
    copy_seconds, insert_seconds = await raw_inserts(intake_owner_url, rows)
    copy_rate, insert_rate = len(rows) / copy_seconds, len(rows) / insert_seconds
    print(
        f"raw PostgreSQL, same {len(rows):,} cases (+ invoice lines) alone into scratch copies "
        f"of intake's tables: COPY {copy_rate:.0f} rows/s ({copy_seconds:.2f} s), executemany "
        f"INSERT {insert_rate:.0f} rows/s ({insert_seconds:.2f} s)"
    )
    bare_rate = len(rows) / await unvalidated_import(intake_owner_url, content)
    print(
        f"the same file read and written to the import's four tables with nothing checked, one "
        f"pass then COPY: {bare_rate:.0f} rows/s ({bare_rate / table_copy_rate:.1%} of COPY "
        "into the four tables)"
    )
    print(
        f"CSV import / raw PostgreSQL: {import_rate / table_copy_rate:.1%} of COPY into the "
        f"import's four tables; of the cases and invoice lines alone: "
        f"{import_rate / copy_rate:.1%} of COPY, {import_rate / insert_rate:.1%} of executemany"
    )
    submission = f"case submission REST -> intake, concurrency {args.concurrency}"
    report(
        [
            BenchRow(
                f"{submission}: rate",
                rate,
                "cases/s",
                baseline=raw_rate,
                baseline_label="PG durable tx",
                target=Target("ratio", ">=", 0.25),
            ),
            BenchRow(
                f"{submission}: p99", percentile(latencies, 99) * 1000, "ms", higher_is_better=False
            ),
            *(
                BenchRow(
                    f"{submission}: {name} CPU per case",
                    submit_cpu_ms[name],
                    "ms",
                    higher_is_better=False,
                    note=f"{name}'s CPU time (all its threads) during the run / cases",
                )
                for name in ("gateway", "intake")
            ),
            BenchRow(
                "intake: matching's facts from a backlog",
                facts / backlog_seconds,
                "facts/s",
                note=f"{facts} facts (three per case), produced at once; until all handled",
            ),
            BenchRow(
                "intake: matching's facts from a backlog: intake CPU per fact",
                fact_cpu_ms,
                "ms",
                higher_is_better=False,
                note="intake's CPU time (all its threads) from the first fact produced / facts",
            ),
            BenchRow(
                f"case submission REST -> intake at {offered:.0f}/s offered (half raw): p99",
                open_p99,
                "ms",
                higher_is_better=False,
                target=Target("figure", "<=", 50),
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows)",
                import_rate,
                "rows/s",
                baseline=table_copy_rate,
                baseline_label="COPY, same 4 tables",
                target=Target("ratio", ">=", 0.3),
                note="baseline: each case's row, invoice line, outbox row and timeline entry,"
                " built beforehand, COPYed into copies of the four tables the import writes",
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows) against cases and invoice lines alone",
                import_rate,
                "rows/s",
                baseline=copy_rate,
                baseline_label="COPY, 2 tables",
                note="the CSV row's baseline until session 25: two of the import's four tables",
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows) with nothing checked, one pass (headroom)",
                bare_rate,
                "rows/s",
                baseline=table_copy_rate,
                baseline_label="COPY, same 4 tables",
                note="csv.reader, each case's four rows (case, invoice line, outbox, timeline)"
                " built and COPYed; no rule checked: what an import that validates nothing reaches",
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows): intake CPU per row",
                cpu_ms["intake"],
                "ms",
                higher_is_better=False,
                note="intake's CPU time during the import (its relay included) / rows",
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows): gateway RSS growth",
                memory.growth_mib("gateway"),
                "MiB",
                higher_is_better=False,
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows): intake RSS growth",
                memory.growth_mib("intake"),
                "MiB",
                higher_is_better=False,
            ),
            *(
                BenchRow(
                    f"CSV import ({len(rows):,} rows): {name} peak RSS",
                    memory.peak_mib(name),
                    "MiB",
                    higher_is_better=False,
                    target=Target("figure", "<=", k8s_memory_limit_mib(name))
                    if len(rows) >= MAX_ROWS
                    else None,
                    note=f"limit: its k8s container's; judged for a file of {MAX_ROWS:,} rows",
                )
                for name in ("gateway", "intake")
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="smaller run for make bench")
    args = parser.parse_args()
    if args.quick:  # the import keeps the largest file intake takes: its memory is judged
        args.submissions = min(args.submissions, 400)
    stack = find_stack()
    prefix = unique_name("bench_intake") + "."
    created: list[ServiceDatabase] = []
    started: list[ServiceProcess] = []
    with topics_deleted_after(stack), tempfile.TemporaryDirectory(prefix="bench_intake_") as logs:
        try:
            created.append(intake_db := provision(stack, "intake"))
            created.append(gateway_db := provision(stack, "gateway"))
            intake = service(stack, "intake", intake_db.url, prefix, Path(logs))
            started.append(intake)
            intake.start()
            port = free_port()
            gateway = service(
                stack,
                "gateway",
                gateway_db.url,
                prefix,
                Path(logs),
                http_port=str(port),
                intake_target=intake.target,
                # The longest the settings allow: a 100,000-row import takes minutes.
                token_ttl_seconds="3600",
                # The open-loop run offers more than intake answers, from one credential: it
                # measures the path, not the gateway's limit on requests in flight (429).
                requests_in_flight_per_credential="0",
            )
            started.append(gateway)
            gateway.start()
            url = f"http://127.0.0.1:{port}"
            wait_http(url, gateway)
            pids = {"gateway": process_id(gateway), "intake": process_id(intake)}
            asyncio.run(run(args, url, intake_db.owner_url, pids, stack.kafka_admin(), prefix))
        except BaseException:
            for process in started:
                print(f"--- {process.service} log\n{process.log_text()[-3000:]}", file=sys.stderr)
            raise
        finally:
            for process in reversed(started):
                if process.process is None:  # never launched
                    continue
                try:
                    process.stop()
                except subprocess.TimeoutExpired:
                    process.kill()
            discard(stack, created)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
