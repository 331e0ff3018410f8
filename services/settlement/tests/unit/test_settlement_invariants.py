"""The check names each invariant a tampered ledger breaks, and where."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from settlement.domain.invariants import (
    GENESIS,
    LedgerRows,
    StoredAccount,
    StoredEntry,
    StoredLine,
    entry_digest,
    verify,
)

BANK = StoredAccount("5121", "5121", "asset", None, None)
HELD = StoredAccount("4671/cred-1", "4671", "liability", "creditor", "cred-1")
E1 = StoredEntry("e-1", 1, "bank-line:L1", date(2026, 12, 1), "BQ", "payment", None)
E2 = StoredEntry("e-2", 2, "bank-line:R1", date(2026, 12, 2), "BQ", "recalled", "e-1")
LINES = [
    StoredLine("e-1", 1, "5121", "case-1", 1_000, 0, "EUR"),
    StoredLine("e-1", 2, "4671/cred-1", "case-1", 0, 1_000, "EUR"),
    StoredLine("e-2", 1, "5121", "case-1", 0, 1_000, "EUR"),
    StoredLine("e-2", 2, "4671/cred-1", "case-1", 1_000, 0, "EUR"),
]
E1 = replace(E1, digest=entry_digest(GENESIS, E1, LINES[:2]))
E2 = replace(E2, digest=entry_digest(E1.digest, E2, LINES[2:]))
SOUND = LedgerRows([BANK, HELD], [E1, E2], LINES)


def broken(rows: LedgerRows) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for breach in verify(rows):
        found.setdefault(breach.invariant, []).append(breach.detail)
    return found


def test_a_sound_ledger_breaks_nothing() -> None:
    assert verify(SOUND) == []


def test_an_amount_changed_on_one_line_unbalances_its_entry_and_the_trial_balance() -> None:
    lines = [replace(LINES[0], debit=100_000), *LINES[1:]]
    found = broken(replace(SOUND, lines=lines))
    assert found["entry-balanced"] == [
        "entry 1 (bank-line:L1): debits minus credits is 99000 cents in EUR"
    ]
    assert found["trial-balance"] == [
        "debits minus credits across the ledger is 99000 cents in EUR"
    ]
    assert "reversal-mirrors" in found


@pytest.mark.parametrize(
    ("rows", "invariant"),
    [
        (replace(SOUND, lines=LINES[1:]), "entry-has-lines"),
        (replace(SOUND, entries=[E2]), "orphan-line"),
        (replace(SOUND, accounts=[BANK]), "orphan-line"),
        (replace(SOUND, entries=[E1, replace(E2, entry_no=3)]), "entry-sequence"),
        (replace(SOUND, entries=[E1, replace(E2, entry_no=1)]), "entry-sequence"),
        (replace(SOUND, entries=[E1, replace(E2, fact_key=E1.fact_key)]), "fact-unique"),
        (replace(SOUND, accounts=[replace(BANK, type="income"), HELD]), "account-type"),
        (replace(SOUND, accounts=[BANK, replace(HELD, party_kind="provider")]), "account-type"),
        (replace(SOUND, accounts=[BANK, HELD, StoredAccount("999", "999", "asset", None, None)]),
         "account-type"),
        (replace(SOUND, lines=[*LINES[:3], replace(LINES[3], debit=1_000, credit=1_000)]),
         "line-one-side"),
        (replace(SOUND, lines=[replace(x, currency="USD") for x in LINES]), "line-currency"),
        (replace(SOUND, entries=[E1, replace(E2, reverses="e-9")]), "reversal-mirrors"),
    ],
)  # fmt: skip
def test_each_kind_of_tampering_is_named(rows: LedgerRows, invariant: str) -> None:
    assert invariant in broken(rows)


def test_a_reversal_that_moves_the_money_elsewhere_does_not_mirror() -> None:
    other = StoredAccount("4671/cred-2", "4671", "liability", "creditor", "cred-2")
    lines = [*LINES[:3], replace(LINES[3], account="4671/cred-2")]
    found = broken(LedgerRows([BANK, HELD, other], [E1, E2], lines))
    assert found["reversal-mirrors"] == ["entry 2 does not mirror entry 1"]
    assert list(found) == ["reversal-mirrors", "entry-chain"]


def test_a_balanced_forgery_is_caught_by_the_chain_alone() -> None:
    # Both lines of entry 1 moved to another creditor, and its reversal likewise: every sum
    # still holds, only the digests tell.
    other = StoredAccount("4671/cred-2", "4671", "liability", "creditor", "cred-2")
    lines = [x if x.account == "5121" else replace(x, account="4671/cred-2") for x in LINES]
    found = broken(LedgerRows([BANK, HELD, other], [E1, E2], lines))
    assert found == {
        "entry-chain": [
            "entry 1 (bank-line:L1) does not match its digest: it, one of its lines or an entry "
            "before it changed after posting"
        ]
    }


def test_an_entry_removed_with_its_lines_breaks_the_chain_after_it() -> None:
    found = broken(replace(SOUND, entries=[E2], lines=LINES[2:]))
    assert "entry-chain" in found
    assert "entry-sequence" in found
