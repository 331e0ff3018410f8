"""The ledger as a beancount file, for `bean-check` to verify independently of our own code.

Each account becomes `<Root>:<PCG number and name>[:<party>]`; each entry a transaction carrying
its number, fact and reversal link; and, at the end, each account's balance as our database sums
it, as a `balance` assertion (to the cent) that bean-check recomputes from the postings.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import date, timedelta

from settlement.domain.accounts import AccountType, PartyKind, account_of_code
from settlement.domain.invariants import LedgerRows, StoredEntry, StoredLine
from settlement.domain.ledger import Balance

_ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}
_PARTY_PREFIX = {PartyKind.CREDITOR: "Cred", PartyKind.PROVIDER: "Prov", PartyKind.PARTNER: "Part"}
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


def beancount_account(code: str) -> str:
    """The beancount name of a ledger account (components: a capital or digit, then A-Z a-z 0-9
    -); a party id with other characters keeps a digest so two ids never share a name."""
    found = account_of_code(code)
    name = f"{_ROOTS[found.type]}:{found.account_class.slug}"
    if found.party_id is None or found.account_class.party is None:
        return name
    party = _UNSAFE.sub("-", found.party_id)
    if party != found.party_id:
        party += "-" + hashlib.sha256(found.party_id.encode()).hexdigest()[:8]
    return f"{name}:{_PARTY_PREFIX[found.account_class.party]}-{party}"


def _amount(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _transaction(entry: StoredEntry, lines: list[StoredLine]) -> list[str]:
    head = f"{entry.booked_on.isoformat()} * {_quoted(entry.description)} ^entry-{entry.entry_id}"
    if entry.reverses:
        head += f" ^reverses-{entry.reverses}"
    out = [
        head,
        f"  entry-no: {entry.entry_no}",
        f"  fact: {_quoted(entry.fact_key)}",
        f"  journal: {_quoted(entry.journal)}",
    ]
    for line in sorted(lines, key=lambda line: line.line_no):
        amount = _amount(line.debit - line.credit)
        out.append(f"  {beancount_account(line.account)}  {amount} {line.currency}")
        if line.case_id:
            out.append(f"    case: {_quoted(line.case_id)}")
    return [*out, ""]


def render_beancount(rows: LedgerRows, closing: list[Balance]) -> str:
    """The whole journal as beancount text, with `closing` (balances at the last booked date)
    asserted the day after it."""
    lines_of: dict[str, list[StoredLine]] = defaultdict(list)
    for line in rows.lines:
        lines_of[line.entry_id].append(line)
    opened: dict[str, date] = {}
    for entry in rows.entries:
        for line in lines_of[entry.entry_id]:
            opened[line.account] = min(opened.get(line.account, entry.booked_on), entry.booked_on)
    out = ['option "title" "Recouvra settlement ledger"', 'option "operating_currency" "EUR"', ""]
    for code, on in sorted(opened.items(), key=lambda item: (item[1], item[0])):
        out.append(f"{on.isoformat()} open {beancount_account(code)} EUR")
        out.append(f"  name: {_quoted(account_of_code(code).name)}")
    out.append("")
    for entry in sorted(rows.entries, key=lambda e: (e.booked_on, e.entry_no)):
        out += _transaction(entry, lines_of[entry.entry_id])
    if rows.entries:
        after = (max(e.booked_on for e in rows.entries) + timedelta(days=1)).isoformat()
        for balance in closing:
            amount = _amount(balance.debit - balance.credit)
            account = beancount_account(balance.account)
            # An explicit zero tolerance: beancount's default lets a balance be a cent off.
            out.append(f"{after} balance {account}  {amount} ~ 0.00 {balance.currency}")
    return "\n".join(out) + "\n"
