"""Journal entries: balanced, caused by one fact each, never changed, corrected by reversal.

Amounts are integers in minor units (cents); one currency (EUR) is booked today, but every line
names its currency and an entry must balance in each. An entry is identified by the fact that
caused it (a bank line, an event id): posting the same fact twice books it once.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum

from recouvra_shared.errors import InvalidRequest, Refusal, Violation
from settlement.domain.accounts import Account, AccountType, account_of_code

CURRENCY = "EUR"
MAX_AMOUNT = 10**15  # ten thousand billion euros: far beyond any claim, far within bigint
_FACT_KEY = re.compile(r"^[a-z][a-z0-9-]*:[A-Za-z0-9._:/-]{1,180}$")
_CASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Journal(StrEnum):
    """The books an entry is written in, by the codes French ledgers use."""

    BANK = "BQ"
    MISC = "OD"
    SALES = "VT"
    PURCHASES = "HA"


@dataclass(frozen=True)
class Line:
    """One side of an entry: an amount debited or credited to an account, maybe for a case."""

    account: str
    debit: int = 0
    credit: int = 0
    case_id: str | None = None
    currency: str = CURRENCY

    def mirrored(self) -> Line:
        """The same amount on the other side: what a reversal books."""
        return replace(self, debit=self.credit, credit=self.debit)


def debit(to: Account, amount: int, case_id: str | None = None) -> Line:
    """A debit of `amount` cents to an account."""
    return Line(to.code, debit=amount, case_id=case_id)


def credit(to: Account, amount: int, case_id: str | None = None) -> Line:
    """A credit of `amount` cents to an account."""
    return Line(to.code, credit=amount, case_id=case_id)


@dataclass(frozen=True)
class JournalEntry:
    """A posted (or about to be posted) entry; `entry_no` is given by the ledger, in sequence."""

    entry_id: str
    fact_key: str
    booked_on: date
    journal: Journal
    description: str
    lines: tuple[Line, ...]
    reverses: str | None = None
    entry_no: int | None = None
    recorded_at: datetime | None = None
    # Chains this entry to the one numbered before it (see `invariants.entry_digest`).
    digest: bytes | None = None

    def same_content(self, other: JournalEntry) -> bool:
        """Whether two entries book the same thing, whatever their ids and numbers."""
        return (
            self.fact_key,
            self.booked_on,
            self.journal,
            self.description,
            self.lines,
            self.reverses,
        ) == (
            other.fact_key,
            other.booked_on,
            other.journal,
            other.description,
            other.lines,
            other.reverses,
        )


class UnbalancedEntry(InvalidRequest):
    """Debits and credits of an entry differ (or it has fewer than two lines)."""


def _line_violations(index: int, line: Line) -> list[Violation]:
    field = f"lines[{index}]"
    found: list[Violation] = []
    for side in ("debit", "credit"):
        amount = getattr(line, side)
        if type(amount) is not int:
            found.append(Violation(f"{field}.{side}", "an integer number of cents"))
        elif not 0 <= amount <= MAX_AMOUNT:
            found.append(Violation(f"{field}.{side}", f"between 0 and {MAX_AMOUNT} cents"))
    if not found and (line.debit > 0) == (line.credit > 0):
        found.append(Violation(field, "exactly one of debit and credit is positive"))
    if line.currency != CURRENCY:
        found.append(Violation(f"{field}.currency", f"the ledger books {CURRENCY} only"))
    if line.case_id is not None and not _CASE_ID.match(line.case_id):
        found.append(Violation(f"{field}.case_id", "letters, digits, . _ -, at most 64"))
    try:
        account_of_code(line.account)
    except Refusal as refused:
        found += [Violation(f"{field}.account", v.rule) for v in refused.violations]
    return found


def imbalances(lines: Iterable[Line]) -> dict[str, int]:
    """Debits minus credits per currency, where they differ."""
    totals: dict[str, int] = defaultdict(int)
    for line in lines:
        totals[line.currency] += line.debit - line.credit
    return {currency: net for currency, net in totals.items() if net}


def journal_entry(
    *,
    entry_id: str,
    fact_key: str,
    booked_on: date,
    journal: Journal,
    description: str,
    lines: Sequence[Line],
    reverses: str | None = None,
) -> JournalEntry:
    """A balanced entry, refused with every rule it breaks."""
    found: list[Violation] = []
    if not _FACT_KEY.match(fact_key):
        found.append(Violation("fact_key", "kind:id, e.g. bank-line:ABC123 or event:<uuid>"))
    if not description.strip() or len(description) > 200:
        found.append(Violation("description", "between 1 and 200 characters"))
    for index, line in enumerate(lines):
        found += _line_violations(index, line)
    if found:
        raise InvalidRequest(found)
    if len(lines) < 2:
        raise UnbalancedEntry([Violation("lines", "an entry has at least two lines")])
    unbalanced = imbalances(lines)
    if unbalanced:
        raise UnbalancedEntry(
            [
                Violation("lines", f"debits exceed credits by {net} cents in {currency}")
                for currency, net in unbalanced.items()
            ]
        )
    return JournalEntry(
        entry_id=entry_id,
        fact_key=fact_key,
        booked_on=booked_on,
        journal=journal,
        description=description,
        lines=tuple(lines),
        reverses=reverses,
    )


def reversal(
    original: JournalEntry, *, entry_id: str, fact_key: str, booked_on: date, description: str
) -> JournalEntry:
    """The entry that cancels `original`: every line on the other side, dated no earlier."""
    if booked_on < original.booked_on:
        raise InvalidRequest(
            [Violation("booked_on", f"a reversal is dated on or after {original.booked_on}")]
        )
    return journal_entry(
        entry_id=entry_id,
        fact_key=fact_key,
        booked_on=booked_on,
        journal=original.journal,
        description=description,
        lines=[line.mirrored() for line in original.lines],
        reverses=original.entry_id,
    )


@dataclass(frozen=True)
class Balance:
    """What an account holds at a date: its debit and credit totals, in one currency."""

    account: str
    debit: int
    credit: int
    currency: str = CURRENCY

    @property
    def type(self) -> AccountType:
        """The account's type, from the chart."""
        return account_of_code(self.account).type

    @property
    def amount(self) -> int:
        """The balance on the account's normal side: positive when an asset holds money or a
        liability is owed, negative when it went the other way."""
        net = self.debit - self.credit
        return net if self.type.debit_normal else -net


def balances(lines: Iterable[Line]) -> list[Balance]:
    """Debit and credit totals per (account, currency), sorted by account."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for line in lines:
        total = totals[line.account, line.currency]
        total[0] += line.debit
        total[1] += line.credit
    return [
        Balance(account, debit_total, credit_total, currency)
        for (account, currency), (debit_total, credit_total) in sorted(totals.items())
    ]
