"""Statement lines matched and booked per second, against raw PostgreSQL inserts of the same
rows in the same run.

On a fresh settlement database of the local stack: N credit lines of one camt.053 statement,
each carrying the RF reference of one of 100 known cases, imported by the real use case
(`import_statement`: validate and read the file, match by reference, allocate by the legal
computation, post a journal entry under the ledger's lock and digest chain, keep the receipt,
write the payment-received event to the outbox). Then the same number of rows (line key, case,
amount, date) inserted one by one, committed in chunks of the same size, into a plain table of
the same database, through the same driver. Prints both rates and their ratio (1 = as fast as
raw inserts).

    python services/settlement/bench/bench_settlement.py [--quick] [--lines N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from recouvra_shared.db import Database  # noqa: E402
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry, camt053  # noqa: E402
from services.settlement.tests.unit.money_in_world import two_invoice_case  # noqa: E402
from settlement.adapters.camt053 import read_statements  # noqa: E402
from settlement.bootstrap import units_of  # noqa: E402
from settlement.domain.bank_statement import line_key  # noqa: E402
from settlement.domain.payment_instructions import new_reference_body, rf_reference  # noqa: E402
from settlement.service_layer import statement_import  # noqa: E402
from tests.support.bench_table import Row, report  # noqa: E402
from tests.support.databases import service_database  # noqa: E402
from tests.support.stack import find_stack  # noqa: E402

CASES = 100


def case_id(number: int) -> str:
    return f"0b7c1f2a-0000-4000-8000-{number:012d}"


async def booked_per_second(url: str, lines: int) -> float:
    database = Database.connect(url, pool_size=2)
    units = units_of(database)
    try:
        references = []
        async with units() as uow:
            for number in range(CASES):
                await uow.cases.put(two_invoice_case(case_id(number), f"cred-{number % 7}"))
                reference = rf_reference(new_reference_body(lambda bits, n=number: n))
                await uow.references.add(case_id(number), reference)
                references.append(reference)
            await uow.commit()
        content = camt053(
            [
                Entry(1_000 + n, reference=references[n % CASES], servicer_ref=f"B-{n}")
                for n in range(lines)
            ],
            statement_id="BENCH",
        )
        start = time.perf_counter()
        (statement,) = read_statements(content)
        report = await statement_import.import_statement(statement, units, CLIENT_MONEY_IBAN)
        elapsed = time.perf_counter() - start
        assert report.by_reference == lines, report
        return lines / elapsed
    finally:
        await database.dispose()


async def raw_per_second(owner_url: str, url: str, role: str, lines: int) -> float:
    owner = Database.connect(owner_url, pool_size=1)
    try:
        async with owner.sessions() as session, session.begin():
            await session.execute(
                text(
                    "CREATE TABLE bench_raw_lines (line_key varchar(200) PRIMARY KEY, "
                    "case_id uuid NOT NULL, amount_minor bigint NOT NULL, booked_on date NOT NULL)"
                )
            )
            await session.execute(text(f'GRANT INSERT, SELECT ON bench_raw_lines TO "{role}"'))
    finally:
        await owner.dispose()
    (statement,) = read_statements(
        camt053([Entry(1_000 + n, servicer_ref=f"R-{n}") for n in range(lines)], statement_id="R")
    )
    rows = [
        {
            "key": line_key(statement, line),
            "case": case_id(n % CASES),
            "amount": line.amount_minor,
            "on": date(2026, 3, 2),
        }
        for n, line in enumerate(statement.lines)
    ]
    database = Database.connect(url, pool_size=1)
    insert = text("INSERT INTO bench_raw_lines VALUES (:key, CAST(:case AS uuid), :amount, :on)")
    try:
        start = time.perf_counter()
        for first in range(0, lines, statement_import.CHUNK):
            async with database.sessions() as session, session.begin():
                for row in rows[first : first + statement_import.CHUNK]:
                    await session.execute(insert, row)
        return lines / (time.perf_counter() - start)
    finally:
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=5_000)
    parser.add_argument("--quick", action="store_true", help="smaller run for make bench")
    args = parser.parse_args()
    lines = 1_000 if args.quick else args.lines
    stack = find_stack()
    with service_database(stack, "settlement") as database:
        booked = asyncio.run(booked_per_second(database.url, lines))
        raw = asyncio.run(raw_per_second(database.owner_url, database.url, database.role, lines))
    print(f"settlement: {lines} statement lines matched, allocated and booked")
    print(f"  import:      {booked:10.1f} lines/s")
    print(f"  raw inserts: {raw:10.1f} rows/s (same rows, same chunks, same driver)")
    print(f"  ratio import/raw: {booked / raw:.3f}")
    report(
        [
            Row(
                "settlement camt.053 lines booked",
                booked,
                "lines/s",
                baseline=raw,
                baseline_label="raw INSERTs, same chunks",
            )
        ]
    )


if __name__ == "__main__":
    main()
