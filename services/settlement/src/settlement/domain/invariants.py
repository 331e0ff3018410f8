"""What must hold of the ledger as stored, checked from its raw rows, whatever wrote them.

The database refuses unbalanced entries and any change to a posted one; this check is the
auditor's second look, for what someone with the power to bypass those guards may have done.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from recouvra_shared.errors import Refusal
from settlement.domain.accounts import account_of_code
from settlement.domain.ledger import CURRENCY, JournalEntry

# Each invariant's name, as `python -m settlement check` reports it, and what it means.
INVARIANTS: dict[str, str] = {
    "entry-balanced": "every entry's debits equal its credits, per currency",
    "entry-has-lines": "every entry has at least two lines",
    "line-one-side": "every line debits or credits a positive amount, not both",
    "line-currency": "every line is in EUR",
    "orphan-line": "every line belongs to a stored entry and a stored account",
    "trial-balance": "all debits equal all credits across the ledger, per currency",
    "account-type": "every account is in the chart, with its class's type and party",
    "entry-sequence": "entries are numbered 1, 2, 3... without gap or repeat",
    "fact-unique": "no fact is booked by two entries",
    "reversal-mirrors": "a reversal reverses a stored entry, once, line for line",
    "entry-chain": "each entry's digest covers its content, its lines and the previous digest",
}
GENESIS = bytes(32)


@dataclass(frozen=True)
class StoredAccount:
    """An accounts row as stored."""

    code: str
    number: str
    type: str
    party_kind: str | None
    party_id: str | None


@dataclass(frozen=True)
class StoredEntry:
    """A journal_entries row as stored."""

    entry_id: str
    entry_no: int
    fact_key: str
    booked_on: date
    journal: str
    description: str
    reverses: str | None
    digest: bytes = b""


@dataclass(frozen=True)
class StoredLine:
    """A journal_lines row as stored."""

    entry_id: str
    line_no: int
    account: str
    case_id: str | None
    debit: int
    credit: int
    currency: str


@dataclass(frozen=True)
class LedgerRows:
    """The whole ledger, row for row."""

    accounts: list[StoredAccount] = field(default_factory=list)
    entries: list[StoredEntry] = field(default_factory=list)
    lines: list[StoredLine] = field(default_factory=list)


def stored_rows_of(entry: JournalEntry, entry_no: int) -> tuple[StoredEntry, list[StoredLine]]:
    """The rows an entry is stored as, numbered `entry_no`, lines numbered from 1."""
    stored = StoredEntry(
        entry_id=entry.entry_id,
        entry_no=entry_no,
        fact_key=entry.fact_key,
        booked_on=entry.booked_on,
        journal=entry.journal.value,
        description=entry.description,
        reverses=entry.reverses,
    )
    lines = [
        StoredLine(entry.entry_id, n, x.account, x.case_id, x.debit, x.credit, x.currency)
        for n, x in enumerate(entry.lines, start=1)
    ]
    return stored, lines


def entry_digest(previous: bytes, entry: StoredEntry, lines: Sequence[StoredLine]) -> bytes:
    """SHA-256 of the previous entry's digest and this entry's every stored field and line:
    changing, removing or inserting any entry or line after the fact breaks the chain from there
    on, balanced or not."""
    content = [
        previous.hex(),
        entry.entry_no,
        entry.entry_id,
        entry.fact_key,
        entry.booked_on.isoformat(),
        entry.journal,
        entry.description,
        entry.reverses,
        [
            [x.line_no, x.account, x.case_id, x.debit, x.credit, x.currency]
            for x in sorted(lines, key=lambda x: x.line_no)
        ],
    ]
    encoded = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).digest()


@dataclass(frozen=True)
class Breach:
    """One invariant broken, and where."""

    invariant: str
    detail: str

    def __str__(self) -> str:
        return f"{self.invariant}: {self.detail}"


def _account_breaches(rows: LedgerRows) -> list[Breach]:
    found = []
    for stored in rows.accounts:
        try:
            expected = account_of_code(stored.code)
        except Refusal as refused:
            found.append(Breach("account-type", f"account {stored.code}: {refused}"))
            continue
        party = expected.account_class.party
        if (stored.number, stored.type, stored.party_kind, stored.party_id) != (
            expected.account_class.number,
            expected.type.value,
            party.value if party else None,
            expected.party_id,
        ):
            found.append(
                Breach(
                    "account-type",
                    f"account {stored.code} is stored as {stored.type} "
                    f"({stored.party_kind or 'no party'}); the chart says {expected.type.value} "
                    f"({party.value if party else 'no party'})",
                )
            )
    return found


def _line_breaches(rows: LedgerRows) -> list[Breach]:
    entry_ids = {e.entry_id for e in rows.entries}
    accounts = {a.code for a in rows.accounts}
    found = []
    for line in rows.lines:
        where = f"entry {line.entry_id} line {line.line_no}"
        if line.entry_id not in entry_ids:
            found.append(Breach("orphan-line", f"{where}: no such entry"))
        if line.account not in accounts:
            found.append(Breach("orphan-line", f"{where}: no such account {line.account}"))
        if min(line.debit, line.credit) < 0 or (line.debit > 0) == (line.credit > 0):
            found.append(
                Breach("line-one-side", f"{where}: debit {line.debit}, credit {line.credit}")
            )
        if line.currency != CURRENCY:
            found.append(Breach("line-currency", f"{where}: {line.currency}"))
    return found


def _entry_breaches(rows: LedgerRows) -> list[Breach]:
    lines_of: dict[str, list[StoredLine]] = defaultdict(list)
    for line in rows.lines:
        lines_of[line.entry_id].append(line)
    found = []
    for entry in rows.entries:
        lines = lines_of[entry.entry_id]
        if len(lines) < 2:
            found.append(
                Breach("entry-has-lines", f"entry {entry.entry_no} has {len(lines)} line(s)")
            )
        net: dict[str, int] = defaultdict(int)
        for line in lines:
            net[line.currency] += line.debit - line.credit
        for currency, difference in sorted(net.items()):
            if difference:
                found.append(
                    Breach(
                        "entry-balanced",
                        f"entry {entry.entry_no} ({entry.fact_key}): debits minus credits is "
                        f"{difference} cents in {currency}",
                    )
                )
    for fact_key, count in Counter(e.fact_key for e in rows.entries).items():
        if count > 1:
            found.append(Breach("fact-unique", f"{fact_key} is booked by {count} entries"))
    return found


def _sequence_breaches(rows: LedgerRows) -> list[Breach]:
    numbers = sorted(e.entry_no for e in rows.entries)
    expected = list(range(1, len(numbers) + 1))
    if numbers == expected:
        return []
    missing = sorted(set(expected) - set(numbers))
    repeated = sorted(n for n, c in Counter(numbers).items() if c > 1)
    extra = sorted(n for n in set(numbers) if n > len(numbers) or n < 1)
    return [
        Breach(
            "entry-sequence",
            f"{len(numbers)} entries; missing {missing[:10]}, repeated {repeated[:10]}, "
            f"out of range {extra[:10]}",
        )
    ]


def _reversal_breaches(rows: LedgerRows) -> list[Breach]:
    entries = {e.entry_id: e for e in rows.entries}
    lines_of: dict[str, Counter[tuple[str, str | None, int, int, str]]] = defaultdict(Counter)
    for line in rows.lines:
        key = (line.account, line.case_id, line.debit, line.credit, line.currency)
        lines_of[line.entry_id][key] += 1
    found = []
    reversed_by: dict[str, list[int]] = defaultdict(list)
    for entry in rows.entries:
        if entry.reverses is None:
            continue
        reversed_by[entry.reverses].append(entry.entry_no)
        original = entries.get(entry.reverses)
        if original is None:
            found.append(
                Breach("reversal-mirrors", f"entry {entry.entry_no} reverses no stored entry")
            )
            continue
        mirrored = Counter(
            {
                (a, c, cr, dr, cur): n
                for (a, c, dr, cr, cur), n in lines_of[original.entry_id].items()
            }
        )
        if mirrored != lines_of[entry.entry_id]:
            found.append(
                Breach(
                    "reversal-mirrors",
                    f"entry {entry.entry_no} does not mirror entry {original.entry_no}",
                )
            )
    for original_id, reversals in reversed_by.items():
        if len(reversals) > 1:
            found.append(
                Breach("reversal-mirrors", f"entry {original_id} is reversed by {reversals}")
            )
    return found


def _trial_balance_breaches(rows: LedgerRows) -> list[Breach]:
    net: dict[str, int] = defaultdict(int)
    for line in rows.lines:
        net[line.currency] += line.debit - line.credit
    return [
        Breach("trial-balance", f"debits minus credits across the ledger is {d} cents in {c}")
        for c, d in sorted(net.items())
        if d
    ]


def _chain_breaches(rows: LedgerRows) -> list[Breach]:
    lines_of: dict[str, list[StoredLine]] = defaultdict(list)
    for line in rows.lines:
        lines_of[line.entry_id].append(line)
    previous = GENESIS
    for entry in sorted(rows.entries, key=lambda e: e.entry_no):
        if entry.digest != entry_digest(previous, entry, lines_of[entry.entry_id]):
            # Every later digest depends on this one: the first break is the one to name.
            return [
                Breach(
                    "entry-chain",
                    f"entry {entry.entry_no} ({entry.fact_key}) does not match its digest: "
                    "it, one of its lines or an entry before it changed after posting",
                )
            ]
        previous = entry.digest
    return []


def verify(rows: LedgerRows) -> list[Breach]:
    """Every broken invariant, each with where it breaks; empty when the ledger is sound."""
    return [
        *_account_breaches(rows),
        *_line_breaches(rows),
        *_entry_breaches(rows),
        *_sequence_breaches(rows),
        *_reversal_breaches(rows),
        *_trial_balance_breaches(rows),
        *_chain_breaches(rows),
    ]
