"""`python -m settlement check` and `export-beancount` on the real database, as an operator runs
them; bean-check, an accounting tool of its own, is the second opinion on the export."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.builders import receipt, success_fee
from settlement.domain.commands import ReverseEntry
from settlement.service_layer.ledger import post_entry, reverse_entry

pytestmark = pytest.mark.integration

BEAN_CHECK = Path(sys.executable).parent / "bean-check"


async def books(ledger: Ledger) -> str:
    """A small but complete ledger: a payment, its fee, another payment reversed; returns the
    id of the fee's entry."""
    await post_entry(receipt("L1", 120_000, date(2026, 12, 1)), ledger.units())
    fee = await post_entry(
        success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 12, 2)), ledger.units()
    )
    second = await post_entry(receipt("L2", 5_000, date(2026, 12, 2), "case-2"), ledger.units())
    undo = ReverseEntry(second.entry.entry_id, "bank-line:R2", date(2026, 12, 3), "Recalled")
    await reverse_entry(undo, ledger.units())
    return fee.entry.entry_id


def bean_check(ledger: Ledger, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    exported = tmp_path / "ledger.beancount"
    written = ledger.command("export-beancount", "--output", str(exported))
    assert written.returncode == 0, written.stderr
    return subprocess.run(
        [str(BEAN_CHECK), str(exported)], capture_output=True, text=True, timeout=120, check=False
    )


async def test_check_passes_on_sound_books(ledger: Ledger) -> None:
    await books(ledger)
    checked = ledger.command("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "4 entries, 11 lines, 5 accounts: every invariant holds" in checked.stdout
    assert "BROKEN" not in checked.stdout


async def test_check_names_the_invariant_an_admin_broke_behind_the_guards(ledger: Ledger) -> None:
    fee_entry = await books(ledger)
    await ledger.admin(
        f"UPDATE journal_lines SET debit = 17000 WHERE entry_id = '{fee_entry}' AND line_no = 3",
        bypass_guards=True,
    )
    checked = ledger.command("check")
    assert checked.returncode == 1
    assert "BROKEN entry-balanced" in checked.stdout
    assert "entry 2 (event:f-1): debits minus credits is 12680 cents in EUR" in checked.stdout
    assert "BROKEN trial-balance" in checked.stdout
    assert "ok     orphan-line" in checked.stdout


async def test_check_finds_money_moved_between_creditors_behind_the_guards(ledger: Ledger) -> None:
    await books(ledger)
    await ledger.admin(
        "INSERT INTO ledger_accounts (code, number, name, type, party_kind, party_id) VALUES "
        "('4671/cred-2', '4671', 'Fonds', 'liability', 'creditor', 'cred-2')",
        "UPDATE journal_lines SET account_code = '4671/cred-2' WHERE account_code = '4671/cred-1'",
        bypass_guards=True,
    )
    checked = ledger.command("check")
    assert checked.returncode == 1
    assert "BROKEN entry-chain" in checked.stdout
    assert "entry 1 (bank-line:L1) does not match its digest" in checked.stdout
    assert "ok     entry-balanced" in checked.stdout


async def test_check_finds_an_entry_deleted_behind_the_guards(ledger: Ledger) -> None:
    fee_entry = await books(ledger)
    await ledger.admin(
        f"DELETE FROM journal_entries WHERE entry_id = '{fee_entry}'", bypass_guards=True
    )
    checked = ledger.command("check")
    assert checked.returncode == 1
    assert "BROKEN orphan-line" in checked.stdout
    assert "BROKEN entry-sequence" in checked.stdout
    assert "missing [2]" in checked.stdout


async def test_bean_check_accepts_the_export_and_its_closing_balances(
    ledger: Ledger, tmp_path: Path
) -> None:
    await books(ledger)
    checked = bean_check(ledger, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = (tmp_path / "ledger.beancount").read_text()
    held = "Liabilities:4671-Fonds-detenus-creanciers:Cred-cred-1"
    assert f"2026-12-04 balance {held}  -984.00 ~ 0.00 EUR" in text
    assert "2026-12-04 balance Assets:5121-Banque-fonds-de-tiers  1200.00 ~ 0.00 EUR" in text


async def test_bean_check_rejects_books_an_admin_unbalanced(ledger: Ledger, tmp_path: Path) -> None:
    fee_entry = await books(ledger)
    await ledger.admin(
        f"UPDATE journal_lines SET credit = 1 WHERE entry_id = '{fee_entry}' AND line_no = 4",
        bypass_guards=True,
    )
    checked = bean_check(ledger, tmp_path)
    assert checked.returncode != 0
    assert "does not balance" in checked.stdout + checked.stderr
