"""A journal entry balances, names real accounts and counts whole cents, or it is refused."""

from __future__ import annotations

from datetime import date

import pytest

from recouvra_shared.errors import InvalidRequest
from services.settlement.tests.unit.builders import BANK, HELD, REVENUE
from settlement.domain.accounts import FUNDS_HELD, SUSPENSE, account, account_of_code
from settlement.domain.ledger import (
    Balance,
    Journal,
    Line,
    UnbalancedEntry,
    credit,
    debit,
    journal_entry,
    reversal,
)

DAY = date(2026, 12, 1)
ONE_SIDE = "exactly one of debit and credit is positive"
NEEDS_PARTY = "4671 needs the creditor id (letters, digits, . _ -, at most 64)"


def entry(*lines: Line, fact: str = "bank-line:L1", reverses: str | None = None):
    return journal_entry(
        entry_id="e-1",
        fact_key=fact,
        booked_on=DAY,
        journal=Journal.BANK,
        description="Debtor payment",
        lines=lines,
        reverses=reverses,
    )


def rules(refused: pytest.ExceptionInfo[InvalidRequest]) -> dict[str, str]:
    return {v.field: v.rule for v in refused.value.violations}


def test_a_balanced_entry_is_accepted_as_given() -> None:
    booked = entry(debit(BANK, 120_000, "case-1"), credit(HELD, 120_000, "case-1"))
    assert [(x.account, x.debit, x.credit) for x in booked.lines] == [
        ("5121", 120_000, 0),
        ("4671/cred-1", 0, 120_000),
    ]


def test_an_entry_whose_debits_and_credits_differ_is_refused_with_the_difference() -> None:
    with pytest.raises(UnbalancedEntry) as refused:
        entry(debit(BANK, 120_000), credit(HELD, 119_999))
    assert rules(refused) == {"lines": "debits exceed credits by 1 cents in EUR"}


def test_a_single_line_is_not_an_entry() -> None:
    with pytest.raises(UnbalancedEntry) as refused:
        entry(debit(BANK, 0 + 1))
    assert rules(refused) == {"lines": "an entry has at least two lines"}


@pytest.mark.parametrize(
    ("line", "field", "rule"),
    [
        (Line("5121", debit=12.5), "lines[0].debit", "an integer number of cents"),  # type: ignore[arg-type]
        (Line("5121", debit=True), "lines[0].debit", "an integer number of cents"),
        (Line("5121", debit=-5), "lines[0].debit", "between 0 and 1000000000000000 cents"),
        (Line("5121", debit=5, credit=5), "lines[0]", ONE_SIDE),
        (Line("5121"), "lines[0]", ONE_SIDE),
        (Line("5121", debit=5, currency="USD"), "lines[0].currency", "the ledger books EUR only"),
        (Line("999", debit=5), "lines[0].account", "999 is not in the chart of accounts"),
        (Line("4671", debit=5), "lines[0].account", NEEDS_PARTY),
        (Line("471/x", debit=5), "lines[0].account", "471 keeps no sub-account per party"),
    ],
)  # fmt: skip
def test_each_malformed_line_is_refused_naming_its_field(line: Line, field: str, rule: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        entry(line, credit(HELD, 5))
    assert rules(refused) == {field: rule}


def test_a_fact_key_names_the_kind_of_fact() -> None:
    with pytest.raises(InvalidRequest) as refused:
        entry(debit(BANK, 5), credit(HELD, 5), fact="L1")
    assert list(rules(refused)) == ["fact_key"]


def test_a_reversal_books_every_line_on_the_other_side_and_points_at_the_original() -> None:
    original = entry(debit(BANK, 700, "case-1"), credit(HELD, 700, "case-1"))
    undone = reversal(
        original,
        entry_id="e-2",
        fact_key="bank-line:R1",
        booked_on=date(2026, 12, 3),
        description="Returned",
    )
    assert undone.reverses == "e-1"
    assert [(x.account, x.debit, x.credit, x.case_id) for x in undone.lines] == [
        ("5121", 0, 700, "case-1"),
        ("4671/cred-1", 700, 0, "case-1"),
    ]


def test_a_reversal_cannot_be_dated_before_what_it_reverses() -> None:
    original = entry(debit(BANK, 700), credit(HELD, 700))
    with pytest.raises(InvalidRequest) as refused:
        reversal(
            original, entry_id="e-2", fact_key="x:1", booked_on=date(2026, 11, 30), description="r"
        )
    assert list(rules(refused)) == ["booked_on"]


def test_a_balance_reads_on_the_accounts_normal_side() -> None:
    assert Balance("5121", debit=1_000, credit=300).amount == 700  # money in the bank
    assert Balance("4671/cred-1", debit=300, credit=1_000).amount == 700  # owed to the creditor
    assert Balance("706", debit=0, credit=50).amount == 50  # revenue earned
    assert Balance("4671/cred-1", debit=1_000, credit=300).amount == -700  # overdrawn: visible


def test_the_chart_names_accounts_by_their_pcg_number_and_party() -> None:
    assert account_of_code("4671/cred-1") == account(FUNDS_HELD, "cred-1")
    assert (
        account(FUNDS_HELD, "cred-1").name
        == "Fonds encaissés pour le compte des créanciers - cred-1"
    )
    assert account(SUSPENSE).code == "471"
    assert REVENUE.type.value == "income"
