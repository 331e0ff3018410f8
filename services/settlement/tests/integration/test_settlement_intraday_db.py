"""camt.054 intraday notifications on the real PostgreSQL, through `python -m settlement
import-statement` as an operator runs it: the notified credit is booked that minute, the next
day's camt.053 line of the same money books nothing, and the books stay sound."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.integration.test_settlement_money_in_db import (
    case_id,
    count,
    know,
)
from services.settlement.tests.unit.camt_files import Entry, camt053, camt054

pytestmark = pytest.mark.integration

NEXT_DAY = date(2026, 3, 3)


async def test_notified_money_is_booked_once_when_its_statement_line_arrives(
    ledger: Ledger, tmp_path: Path
) -> None:
    first, second = await know(ledger, [case_id(1), case_id(2)])
    notification = tmp_path / "camt054.xml"
    notification.write_bytes(
        camt054(
            [
                # One entry the bank refers to by the same AcctSvcrRef in both documents...
                Entry(30_000, reference=first, servicer_ref="N-1", end_to_end_id="E2E-1"),
                # ...and one it refers to differently: the end-to-end id recognises it.
                Entry(12_000, reference=second, servicer_ref="N-2", end_to_end_id="E2E-2"),
            ],
            version="02",
        )
    )
    notified = ledger.command("import-statement", str(notification))
    assert notified.returncode == 0, notified.stdout + notified.stderr
    assert "notification ntfctn:NTF-2026-03-02-0001" in notified.stdout
    assert "2 lines: 2 by reference" in notified.stdout
    assert await count(ledger, "SELECT count(*) FROM journal_entries") == 2

    statement = tmp_path / "camt053.xml"
    statement.write_bytes(
        camt053(
            [
                Entry(30_000, reference=first, servicer_ref="N-1", booked_on=NEXT_DAY),
                Entry(12_000, reference=second, servicer_ref="S-2", end_to_end_id="E2E-2"),
                # Money no notification told: booked by the statement as ever.
                Entry(5_000, reference=first, servicer_ref="S-3", booked_on=NEXT_DAY),
            ],
            statement_id="STMT-2026-03-03",
        )
    )
    stated = ledger.command("import-statement", str(statement))
    assert stated.returncode == 0, stated.stdout + stated.stderr
    assert "3 lines: 1 by reference" in stated.stdout
    assert "2 already booked from the notification" in stated.stdout
    assert await count(ledger, "SELECT count(*) FROM journal_entries") == 3
    assert await count(ledger, "SELECT count(*) FROM receipts") == 3
    assert await count(ledger, "SELECT count(*) FROM bank_line_twins") == 1
    bank = "SELECT sum(debit) - sum(credit) FROM journal_lines WHERE account_code = '5121'"
    assert await count(ledger, bank) == 47_000
    outbox = "SELECT count(*) FROM outbox WHERE topic = 'settlement.payment-received.v1'"
    assert await count(ledger, outbox) == 3
    again = ledger.command("import-statement", str(statement))
    assert "imported before, nothing done" in again.stdout
    checked = ledger.command("check")
    assert checked.returncode == 0, checked.stdout
