"""`python -m settlement export-fec` on the real database, as an accountant runs it, read back by
the tests' own FEC reader."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from services.settlement.tests.fec_validator import read_fec
from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.integration.test_settlement_ledger_commands import books
from services.settlement.tests.unit.builders import receipt
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import trial_balance

pytestmark = pytest.mark.integration

SIREN = "732829320"


async def test_the_fec_of_real_books_is_valid_and_sums_to_the_ledger(
    ledger: Ledger, tmp_path: Path
) -> None:
    await books(ledger)
    done = ledger.command(
        "export-fec", "--siren", SIREN, "--closing", "20261231", "--output", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    path = tmp_path / f"{SIREN}FEC20261231.txt"
    assert done.stdout.strip() == str(path)
    fec = read_fec(path)
    assert fec.errors == []
    assert {r["EcritureNum"] for r in fec.rows} == {"1", "2", "3", "4"}
    assert {r["JournalCode"] for r in fec.rows} == {"BQ", "OD"}
    for balance in await trial_balance(ledger.units(), date(2026, 12, 31)):
        number, _, party = balance.account.partition("/")
        assert fec.balance_of(number, party) == Decimal(balance.debit - balance.credit) / 100


async def test_the_next_exercise_opens_with_the_balances_carried_forward(
    ledger: Ledger, tmp_path: Path
) -> None:
    await books(ledger)
    await post_entry(receipt("L9", 700, date(2027, 2, 1)), ledger.units())
    done = ledger.command(
        "export-fec", "--siren", SIREN, "--closing", "20271231", "--output", str(tmp_path)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    fec = read_fec(tmp_path / f"{SIREN}FEC20271231.txt")
    assert fec.errors == []
    carried = [r for r in fec.rows if r["EcritureNum"] == "1"]
    assert {r["JournalCode"] for r in carried} == {"AN"}
    assert fec.balance_of("5121") == Decimal("1207.00")
    assert fec.balance_of("4671", "cred-1") == Decimal("-991.00")


async def test_an_empty_period_and_a_wrong_siren_are_refused_and_write_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    await books(ledger)
    empty = ledger.command(
        "export-fec", "--siren", SIREN, "--closing", "20251231", "--output", str(tmp_path)
    )
    assert empty.returncode == 2
    assert "refused: closing: no entry was booked between 20250101 and 20251231" in empty.stdout
    wrong = ledger.command(
        "export-fec", "--siren", "732829321", "--closing", "20261231", "--output", str(tmp_path)
    )
    assert wrong.returncode == 2
    assert "refused: siren: 9 digits with a valid Luhn check digit" in wrong.stdout
    assert not any(tmp_path.iterdir())  # noqa: ASYNC240
