"""A bank statement as settlement reads it: the account, and each booked line with what
identifies it, whatever camt.053 version carried it.

A line's identity (`line_key`) is what makes it book once: the bank's own reference for it
(AcctSvcrRef, unique per account) when the bank gives one, else the statement's id and the
line's position in it. The same line seen again, in a re-sent or an overlapping statement,
has the same key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from stdnum import iso11649

from recouvra_shared.errors import InvalidRequest, Violation

# A camt.054 notification's id as kept beside statements' ids (bank_statements, receipts):
# `ntfctn:<Ntfctn/Id>`, so the two kinds of document never share an id.
NOTIFICATION_PREFIX = "ntfctn:"


@dataclass(frozen=True)
class BankLine:
    """One booked entry of a statement (camt.053 Ntry), amounts in cents."""

    index: int  # position of the entry in its statement, from 0
    amount_minor: int
    currency: str
    is_credit: bool  # CdtDbtInd CRDT: money in
    is_reversal: bool  # RvslInd: the bank undoes an earlier entry
    booked_on: date
    value_date: date
    servicer_ref: str | None = None
    reference: str | None = None  # an ISO 11649 RF reference, when the remittance carries one
    end_to_end_id: str | None = None
    debtor_name: str | None = None


@dataclass(frozen=True)
class BankStatement:
    """A statement of the client-money account (camt.053 Stmt)."""

    statement_id: str
    account_iban: str
    message_type: str  # "camt.053.001.02", "camt.053.001.08", or camt.054's (a notification)
    lines: tuple[BankLine, ...]

    @property
    def intraday(self) -> bool:
        """A camt.054 notification, sent the moment an entry is booked, not the day's statement."""
        return from_notification(self.statement_id)


def from_notification(statement_id: str) -> bool:
    """Whether a receipt's statement id names a camt.054 notification."""
    return statement_id.startswith(NOTIFICATION_PREFIX)


def line_key(statement: BankStatement, line: BankLine) -> str:
    """The fact a line is in the ledger: `bank-line:<digest>` of the account and the bank's
    reference for the line, or of the statement id and the line's position when it has none."""
    identity = (
        f"ref|{statement.account_iban}|{line.servicer_ref}"
        if line.servicer_ref
        else f"pos|{statement.account_iban}|{statement.statement_id}|{line.index}"
    )
    return "bank-line:" + hashlib.sha256(identity.encode()).hexdigest()[:40]


def rf_reference_in(texts: list[str]) -> str | None:
    """The first valid RF creditor reference among structured or free remittance texts
    (spaces ignored, case folded), else None."""
    for text in texts:
        for word in [text.replace(" ", ""), *text.split()]:
            candidate = word.upper()
            if candidate.startswith("RF") and iso11649.is_valid(candidate):
                return candidate
    return None


def check_statement(statement: BankStatement, client_money_iban: str) -> None:
    """Refuse, whole, a statement of another account or with lines in another currency than
    the client-money account's (EUR): nothing of it is booked."""
    found: list[Violation] = []
    if statement.account_iban.replace(" ", "").upper() != client_money_iban:
        found.append(
            Violation("Stmt/Acct/Id/IBAN", f"the client-money account {client_money_iban}")
        )
    for line in statement.lines:
        if line.currency != "EUR":
            found.append(Violation(f"Stmt/Ntry[{line.index + 1}]/Amt/@Ccy", "EUR"))
        if line.amount_minor <= 0:
            found.append(Violation(f"Stmt/Ntry[{line.index + 1}]/Amt", "more than zero"))
    if found:
        raise InvalidRequest(found)
