"""The FEC (Fichier des écritures comptables, LPF A47 A-1): the books as the tax office reads them.

One line per journal line, the 18 columns of the order of 29 July 2013 in their order, separated
by a tab, in ISO-8859-15, amounts with a decimal comma, dates as YYYYMMDD, named
`<SIREN>FEC<closing date>.txt`. Entries of the period are numbered 1, 2, 3... in date order
(EcritureNum continuous); a party's sub-account is the general account in CompteNum and the party
in CompAuxNum/CompAuxLib. What the ledger held before the period opens it as one "à-nouveaux"
entry (journal AN), so the file's balances are the ledger's.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.fr import siren as stdnum_siren

from recouvra_shared.errors import InvalidField, InvalidRequest, Violation
from settlement.domain.accounts import PartyKind, account_of_code
from settlement.domain.ledger import CURRENCY, Balance, Journal, JournalEntry

COLUMNS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
SEPARATOR = "\t"
ENCODING = "iso-8859-15"
OPENING_JOURNAL = ("AN", "A-nouveaux")
JOURNAL_NAMES = {
    Journal.BANK: "Banque - compte de fonds de tiers",
    Journal.MISC: "Opérations diverses",
    Journal.SALES: "Ventes",
    Journal.PURCHASES: "Achats",
}
PARTY_NAMES = {
    PartyKind.CREDITOR: "Créancier",
    PartyKind.PROVIDER: "Prestataire",
    PartyKind.PARTNER: "Partenaire",
}


@dataclass(frozen=True)
class FecPeriod:
    """The exercise exported: first and last day (closing date) included, and whose books."""

    siren: str
    opening: date
    closing: date

    @property
    def file_name(self) -> str:
        """`<SIREN>FEC<YYYYMMDD>.txt`, as LPF A47 A-1 names it."""
        return f"{self.siren}FEC{self.closing:%Y%m%d}.txt"


def fec_period(siren: str, closing: date, opening: date | None = None) -> FecPeriod:
    """The exercise to export; by default the twelve months ending on `closing`."""
    found: list[Violation] = []
    if not stdnum_siren.is_valid(siren) or not siren.isdigit():
        found.append(Violation("siren", "9 digits with a valid Luhn check digit"))
    first = opening if opening is not None else _years_before(closing, 1)
    if first > closing:
        found.append(Violation("opening", f"on or before the closing date {closing:%Y%m%d}"))
    elif first < _years_before(closing, 2):
        found.append(Violation("opening", "an exercise lasts at most 24 months"))
    if found:
        raise InvalidRequest(found)
    return FecPeriod(siren, first, closing)


def _years_before(closing: date, years: int) -> date:
    """The first day of the `years` years ending on `closing`."""
    try:
        return closing.replace(year=closing.year - years) + timedelta(days=1)
    except ValueError:  # 29 February
        return closing.replace(year=closing.year - years, day=28) + timedelta(days=1)


def _text(value: str) -> str:
    """A field's text: no separator, no line break, every character ISO-8859-15 can write."""
    flat = " ".join(value.replace(SEPARATOR, " ").split())
    kept = []
    for char in flat:
        try:
            char.encode(ENCODING)
            kept.append(char)
        except UnicodeEncodeError:
            bare = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            kept.append(bare if bare.isascii() and bare else "?")
    return "".join(kept)


def _amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def _day(on: date) -> str:
    return f"{on:%Y%m%d}"


@dataclass(frozen=True)
class _Row:
    journal: tuple[str, str]
    booked_on: date
    piece: str
    description: str
    account: str
    debit: int
    credit: int
    validated_on: date

    def fields(self, number: int) -> list[str]:
        found = account_of_code(self.account)
        party = found.account_class.party
        return [
            self.journal[0],
            _text(self.journal[1]),
            str(number),
            _day(self.booked_on),
            found.account_class.number,
            _text(found.account_class.name),
            _text(found.party_id or ""),
            _text(f"{PARTY_NAMES[party]} {found.party_id}" if party else ""),
            _text(self.piece),
            _day(self.booked_on),
            _text(self.description),
            _amount(self.debit),
            _amount(self.credit),
            "",
            "",
            _day(self.validated_on),
            "",
            "",
        ]


def _entry_rows(entry: JournalEntry) -> list[_Row]:
    validated = entry.recorded_at.date() if entry.recorded_at else entry.booked_on
    journal = (entry.journal.value, JOURNAL_NAMES[entry.journal])
    rows = []
    for line in entry.lines:
        description = entry.description
        if line.case_id and line.case_id not in description:
            description = f"{description} - dossier {line.case_id}"
        rows.append(
            _Row(
                journal,
                entry.booked_on,
                entry.fact_key,
                description,
                line.account,
                line.debit,
                line.credit,
                max(validated, entry.booked_on),
            )
        )
    return rows


def _opening_rows(period: FecPeriod, before: Sequence[Balance]) -> list[_Row]:
    piece = f"a-nouveaux:{period.opening:%Y%m%d}"
    return [
        _Row(
            OPENING_JOURNAL,
            period.opening,
            piece,
            f"Solde au {period.opening - timedelta(days=1):%d/%m/%Y}",
            balance.account,
            max(balance.debit - balance.credit, 0),
            max(balance.credit - balance.debit, 0),
            period.opening,
        )
        for balance in before
        if balance.debit != balance.credit
    ]


class EmptyPeriod(InvalidField):
    """Nothing was booked in the exercise asked for: an FEC of nothing is refused, not written."""


def render_fec(
    period: FecPeriod, entries: Sequence[JournalEntry], before: Sequence[Balance]
) -> bytes:
    """The FEC of `entries` (those booked in the period), opened by the balances `before` it."""
    booked = [e for e in entries if period.opening <= e.booked_on <= period.closing]
    if not booked:
        raise EmptyPeriod(
            "closing",
            f"no entry was booked between {period.opening:%Y%m%d} and {period.closing:%Y%m%d}",
        )
    if any(b.currency != CURRENCY for b in before):
        raise InvalidField("currency", f"the FEC is kept in {CURRENCY} only")
    groups = [_opening_rows(period, before)]
    groups += [_entry_rows(e) for e in sorted(booked, key=lambda e: (e.booked_on, e.entry_no or 0))]
    lines = [SEPARATOR.join(COLUMNS)]
    number = 0
    for rows in groups:
        if not rows:
            continue
        number += 1
        lines += [SEPARATOR.join(row.fields(number)) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)
