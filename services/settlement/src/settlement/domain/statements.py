"""Monthly statements: what the platform owes a creditor or a provider at the start of a month,
every movement of its sub-accounts in the month, and what it owes at the end.

Amounts are read from the party's side: a credit to its account (money held for it, a fee owed
to it) raises what the platform owes it, a debit (a payout, a fee charged) lowers it. A creditor's
statement covers its funds held (4671) and what it owes in fees (4111); a provider's its fees
(4011).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

from recouvra_shared.errors import InvalidField, InvalidRequest, NotFound, Violation
from settlement.domain.accounts import (
    CREDITOR_RECEIVABLES,
    FUNDS_HELD,
    PROVIDER_FEES,
    account,
    account_of_code,
)
from settlement.domain.invoices import PartyRole
from settlement.domain.ledger import Balance, JournalEntry

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_ACCOUNTS = {
    PartyRole.CREDITOR: (FUNDS_HELD, CREDITOR_RECEIVABLES),
    PartyRole.PROVIDER: (PROVIDER_FEES,),
}
CSV_COLUMNS = ("date", "entry_no", "account", "case_id", "description", "debit", "credit")


class StatementNotFound(NotFound):
    """No statement of this party that the caller may read."""


@dataclass(frozen=True)
class Month:
    """A calendar month: its first and last days."""

    first: date
    last: date

    @property
    def label(self) -> str:
        """`2026-12`."""
        return f"{self.first:%Y-%m}"


def month_of(text: str) -> Month:
    """The month `YYYY-MM` names, refused otherwise."""
    found = _MONTH.match(text)
    if found is None:
        raise InvalidField("month", "a month as YYYY-MM")
    first = date(int(found[1]), int(found[2]), 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return Month(first, last)


def statement_accounts(role: PartyRole, party_id: str) -> list[str]:
    """The ledger accounts a party's statement covers."""
    if role not in _ACCOUNTS:
        raise InvalidRequest([Violation("party_role", "creditor or provider")])
    try:
        return [account(c, party_id).code for c in _ACCOUNTS[role]]
    except InvalidField as refused:
        raise InvalidField("party_id", refused.violations[0].rule) from refused


@dataclass(frozen=True)
class Movement:
    """One line of the statement: a journal line on one of the party's accounts."""

    booked_on: date
    entry_no: int
    account: str
    case_id: str
    description: str
    debit: int
    credit: int


@dataclass(frozen=True)
class Statement:
    """A party's month: opening and closing balance per account (credit minus debit: what the
    platform owes it), and every movement in between, in date then entry order."""

    role: PartyRole
    party_id: str
    month: Month
    opening: dict[str, int]
    movements: list[Movement]

    @property
    def closing(self) -> dict[str, int]:
        """Each account's balance at the month's end."""
        found = dict(self.opening)
        for move in self.movements:
            found[move.account] += move.credit - move.debit
        return found

    @property
    def file_stem(self) -> str:
        """`statement-creditor-cred-1-2026-12`."""
        return f"statement-{self.role.value}-{self.party_id}-{self.month.label}"


def statement(
    role: PartyRole,
    party_id: str,
    month: Month,
    before: list[Balance],
    entries: list[JournalEntry],
) -> Statement:
    """The statement from the balances at the eve of the month and the month's entries."""
    codes = statement_accounts(role, party_id)
    opening = dict.fromkeys(codes, 0)
    for balance in before:
        if balance.account in opening:
            opening[balance.account] = balance.credit - balance.debit
    movements = [
        Movement(
            e.booked_on,
            e.entry_no or 0,
            line.account,
            line.case_id or "",
            e.description,
            line.debit,
            line.credit,
        )
        for e in sorted(entries, key=lambda e: (e.booked_on, e.entry_no or 0))
        if month.first <= e.booked_on <= month.last
        for line in e.lines
        if line.account in opening
    ]
    return Statement(role, party_id, month, opening, movements)


def _cents(amount: int) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"


def statement_csv(found: Statement) -> bytes:
    """The statement as CSV (UTF-8, `;`, amounts in euros with a point): an opening row per
    account, each movement, a closing row per account; opening + credits - debits = closing."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    first, last = found.month.first.isoformat(), found.month.last.isoformat()
    for code, amount in found.opening.items():
        writer.writerow([first, "", code, "", "opening balance", *_sides(amount)])
    for move in found.movements:
        writer.writerow(
            [
                move.booked_on.isoformat(),
                move.entry_no,
                move.account,
                move.case_id,
                move.description,
                _cents(move.debit),
                _cents(move.credit),
            ]
        )
    for code, amount in found.closing.items():
        writer.writerow([last, "", code, "", "closing balance", *_sides(amount)])
    return out.getvalue().encode("utf-8")


def _sides(owed: int) -> list[str]:
    """A balance as debit and credit columns: owed to the party is a credit."""
    return [_cents(max(-owed, 0)), _cents(max(owed, 0))]


def account_label(code: str) -> str:
    """The account's name for people."""
    return account_of_code(code).account_class.name
