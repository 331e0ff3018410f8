"""Money in on the real PostgreSQL: `python -m settlement import-statement` as an operator runs
it, once per line whatever happens, even killed with SIGKILL halfway through 10,000 lines."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.camt_files import Entry, camt053
from services.settlement.tests.unit.money_in_world import REF_A, two_invoice_case
from settlement.domain.payment_instructions import new_reference_body, rf_reference

pytestmark = pytest.mark.integration


async def know(ledger: Ledger, case_ids: list[str]) -> list[str]:
    """Cases settlement heard of from intake, each given its RF reference; their references."""
    references = []
    async with ledger.units() as uow:
        for number, case_id in enumerate(case_ids):
            await uow.cases.put(two_invoice_case(case_id, f"cred-{number % 7}"))
            reference = rf_reference(new_reference_body(lambda bits, n=number: n))
            assert await uow.references.add(case_id, reference)
            references.append(reference)
        await uow.commit()
    return references


async def count(ledger: Ledger, query: str) -> int:
    async with ledger.units() as uow:
        return int((await uow.session.execute(text(query))).scalar_one())  # type: ignore[attr-defined]


def case_id(number: int) -> str:
    return f"0b7c1f2a-0000-4000-8000-{number:012d}"


async def test_a_statement_is_matched_booked_and_announced_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    (reference,) = await know(ledger, [case_id(1)])
    statement = tmp_path / "statement.xml"
    statement.write_bytes(
        camt053(
            [
                Entry(30_000, reference=reference, servicer_ref="B-1", end_to_end_id="E-1"),
                Entry(4_200, reference=REF_A, servicer_ref="B-2", debtor_name="Unknown Ltd"),
                Entry(1_000, credit=False, servicer_ref="B-3"),
            ],
            version="02",
        )
    )
    first = ledger.command("import-statement", str(statement))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "3 lines: 1 by reference, 0 by amount, 1 in suspense" in first.stdout
    again = ledger.command("import-statement", str(statement))
    assert "imported before, nothing done" in again.stdout
    assert await count(ledger, "SELECT count(*) FROM journal_entries") == 2
    assert await count(ledger, "SELECT count(*) FROM receipts WHERE status = 'suspense'") == 1
    assert await count(ledger, "SELECT to_principal FROM receipts WHERE status = 'allocated'") == (
        20_735
    )
    outbox = "SELECT count(*) FROM outbox WHERE topic = 'settlement.payment-received.v1'"
    assert await count(ledger, outbox) == 1
    checked = ledger.command("check")
    assert checked.returncode == 0, checked.stdout


async def test_a_file_that_does_not_validate_books_nothing(ledger: Ledger, tmp_path: Path) -> None:
    statement = tmp_path / "statement.xml"
    statement.write_bytes(camt053([Entry(100)]).replace(b"<CdtDbtInd>", b"<CdtDbtInd>X", 1))
    refused = ledger.command("import-statement", str(statement))
    assert refused.returncode == 1
    assert "Document/BkToCstmrStmt/Stmt/Bal/CdtDbtInd" in refused.stdout
    assert await count(ledger, "SELECT count(*) FROM journal_entries") == 0


async def test_killed_while_importing_10000_lines_then_run_again_books_each_line_once(
    ledger: Ledger, tmp_path: Path
) -> None:
    cases = [case_id(n) for n in range(500)]
    references = await know(ledger, cases)
    entries = [
        Entry(1_000 + n, reference=references[n % 500], servicer_ref=f"B-{n}")
        for n in range(10_000)
    ]
    statement = tmp_path / "statement.xml"
    statement.write_bytes(camt053(entries, statement_id="STMT-BIG"))
    env = {
        **os.environ,
        "RECOUVRA_ENV": "development",
        "RECOUVRA_SETTLEMENT_DATABASE_URL": ledger.url,
    }
    command = [sys.executable, "-m", "settlement", "import-statement", str(statement)]
    importing = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    booked = 0
    while booked < 1_000 and time.monotonic() < deadline and importing.returncode is None:
        await asyncio.sleep(0.2)
        booked = await count(ledger, "SELECT count(*) FROM receipts")
    importing.send_signal(signal.SIGKILL)
    await asyncio.wait_for(importing.wait(), 10)
    halfway = await count(ledger, "SELECT count(*) FROM receipts")
    assert 1_000 <= halfway < 10_000, "killed too late to show anything"

    rerun = await asyncio.create_subprocess_exec(*command, env=env, stdout=asyncio.subprocess.PIPE)
    out, _ = await asyncio.wait_for(rerun.communicate(), 900)
    assert rerun.returncode == 0, out
    assert f"{halfway} booked before" in out.decode()
    assert await count(ledger, "SELECT count(*) FROM receipts") == 10_000
    assert await count(ledger, "SELECT count(*) FROM journal_entries") == 10_000
    assert await count(ledger, "SELECT count(DISTINCT line_key) FROM receipts") == 10_000
    received = "SELECT count(*) FROM outbox WHERE topic = 'settlement.payment-received.v1'"
    assert await count(ledger, received) == 10_000
    total = sum(e.cents for e in entries)
    assert await count(ledger, "SELECT sum(amount_minor) FROM receipts") == total
    checked = ledger.command("check")
    assert checked.returncode == 0, checked.stdout
