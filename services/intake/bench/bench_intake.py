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
2. CSV import: one file of N rows (one case per row, all valid) uploaded to
   `POST /v1/cases/imports`; the time until the whole per-row report is back.
3. Raw PostgreSQL: the same N cases written straight into scratch copies of intake's `cases`
   and `invoice_lines` tables (same columns and indexes) in intake's database, with COPY and
   with executemany INSERTs; the CSV import rate is given as a fraction of both.
"""

from __future__ import annotations

import argparse
import asyncio
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
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.support.bench_table import Row as BenchRow
from tests.support.bench_table import Target, report
from tests.support.databases import ServiceDatabase, discard, provision
from tests.support.fixtures import ServiceProcess
from tests.support.processes import service, wait_http
from tests.support.stack import find_stack, free_port, unique_name

PASSWORD = "correct horse battery staple"
# Valid SIRENs (check digit verified by intake): debtors rotate through them.
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
                "currency": "EUR",
                "amount_due": row.amount,
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
    """A new creditor, logged in: the bearer header every call of the run sends."""
    email = f"{unique_name('bench')}@example.fr"
    signed = await client.post(
        "/v1/accounts",
        json={"organisation_name": "Atelier Bench", "email": email, "password": PASSWORD},
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


async def raw_inserts(database_url: str, rows: list[Row]) -> tuple[float, float]:
    """Seconds to write `rows` as cases + invoice lines straight into PostgreSQL: with COPY,
    then with executemany INSERTs, each in one transaction. `database_url` is the schema
    owner's: the raw tables are made for the comparison, which the runtime role may not do."""
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
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
        case_columns = [
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
        line_columns = [
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
        ]

        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("raw_cases", records=cases, columns=case_columns)
            await connection.copy_records_to_table(
                "raw_invoice_lines", records=lines, columns=line_columns
            )
        copy_seconds = time.perf_counter() - started
        await connection.execute("TRUNCATE raw_cases, raw_invoice_lines")

        def insert(table: str, columns: list[str]) -> str:
            values = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
            # Table and column names are this module's constants, never input.
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"  # noqa: S608

        started = time.perf_counter()
        async with connection.transaction():
            await connection.executemany(insert("raw_cases", case_columns), cases)
            await connection.executemany(insert("raw_invoice_lines", line_columns), lines)
        insert_seconds = time.perf_counter() - started
    finally:
        await connection.close()
    return copy_seconds, insert_seconds


async def run(args: argparse.Namespace, url: str, intake_owner_url: str) -> None:
    async with httpx.AsyncClient(
        base_url=url,
        timeout=60,
        limits=httpx.Limits(max_connections=args.concurrency + 2),
    ) as client:
        auth = await sign_up(client)
        latencies, wall = await submissions(client, auth, args.submissions, args.concurrency)
        print(
            f"case submissions (POST /v1/cases through the gateway REST API -> intake gRPC, "
            f"bearer token, concurrency {args.concurrency}, {args.submissions} requests): "
            f"{args.submissions / wall:.0f} cases/s  p50 {percentile(latencies, 50) * 1000:.1f} ms"
            f"  p99 {percentile(latencies, 99) * 1000:.1f} ms"
        )
        rows = list(simulated_rows(args.rows, "CSV"))
        import_seconds = await csv_import(client, auth, rows)
    import_rate = len(rows) / import_seconds
    scope = f"{len(rows):,}-row CSV" + (
        " (--quick; the full run uses 100,000)" if args.quick else ""
    )
    print(
        f"CSV import of a {scope} through POST /v1/cases/imports: {import_seconds:.1f} s "
        f"({import_rate:.0f} rows/s, every row accepted)"
    )
    copy_seconds, insert_seconds = await raw_inserts(intake_owner_url, rows)
    copy_rate, insert_rate = len(rows) / copy_seconds, len(rows) / insert_seconds
    print(
        f"raw PostgreSQL, same {len(rows):,} cases (+ invoice lines) into scratch copies of "
        f"intake's tables: COPY {copy_rate:.0f} rows/s ({copy_seconds:.2f} s), executemany "
        f"INSERT {insert_rate:.0f} rows/s ({insert_seconds:.2f} s)"
    )
    print(
        f"CSV import / raw PostgreSQL: {import_rate / copy_rate:.1%} of COPY, "
        f"{import_rate / insert_rate:.1%} of executemany "
        f"(import is {copy_rate / import_rate:.1f}x slower than COPY)"
    )
    submission = f"case submission REST -> intake, concurrency {args.concurrency}"
    report(
        [
            BenchRow(f"{submission}: rate", args.submissions / wall, "cases/s"),
            BenchRow(
                f"{submission}: p99",
                percentile(latencies, 99) * 1000,
                "ms",
                higher_is_better=False,
                note="target p99 < 50 ms is at half the raw PostgreSQL rate: not measured here",
            ),
            BenchRow(
                f"CSV import ({len(rows):,} rows)",
                import_rate,
                "rows/s",
                baseline=copy_rate,
                baseline_label="COPY",
                target=Target("ratio", ">=", 0.3),
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
    if args.quick:
        args.submissions = min(args.submissions, 400)
        args.rows = min(args.rows, 20_000)
    stack = find_stack()
    prefix = unique_name("bench_intake") + "."
    created: list[ServiceDatabase] = []
    started: list[ServiceProcess] = []
    with tempfile.TemporaryDirectory(prefix="bench_intake_") as logs:
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
            )
            started.append(gateway)
            gateway.start()
            url = f"http://127.0.0.1:{port}"
            wait_http(url, gateway)
            asyncio.run(run(args, url, intake_db.owner_url))
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
