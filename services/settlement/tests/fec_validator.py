"""An FEC reader of the tests' own, written from the order of 29 July 2013 (LPF A47 A-1), not from
settlement's writer: it parses a file and lists every rule it breaks."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

NAMES = [
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
]
FILE_NAME = re.compile(r"^(?P<siren>\d{9})FEC(?P<closing>\d{8})\.txt$")
AMOUNT = re.compile(r"^-?\d+(,\d{1,2})?$")
ACCOUNT = re.compile(r"^[1-9][0-9A-Za-z]{2,}$")


def _date(text: str) -> date | None:
    if not re.fullmatch(r"\d{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


@dataclass
class FecFile:
    """What the file says: its lines as dicts, and each rule it breaks (empty when valid)."""

    siren: str = ""
    closing: date | None = None
    separator: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def balance_of(self, account: str, auxiliary: str = "") -> Decimal:
        """Debit minus credit of one (general, auxiliary) account over the whole file."""
        return sum(
            (
                _money(r["Debit"]) - _money(r["Credit"])
                for r in self.rows
                if r["CompteNum"] == account and r["CompAuxNum"] == auxiliary
            ),
            Decimal(0),
        )


def _check_row(number: int, row: dict[str, str], errors: list[str]) -> None:
    where = f"line {number}"
    for name in ("JournalCode", "JournalLib", "EcritureNum", "CompteLib", "PieceRef"):
        if not row[name].strip():
            errors.append(f"{where}: {name} is empty")
    if not re.fullmatch(r"[A-Za-z0-9]{1,10}", row["JournalCode"]):
        errors.append(f"{where}: JournalCode {row['JournalCode']!r} is not a short code")
    if not row["EcritureLib"].strip():
        errors.append(f"{where}: EcritureLib is empty")
    for name in ("EcritureDate", "PieceDate", "ValidDate"):
        if _date(row[name]) is None:
            errors.append(f"{where}: {name} {row[name]!r} is not a date YYYYMMDD")
    if not ACCOUNT.match(row["CompteNum"]):
        errors.append(f"{where}: CompteNum {row['CompteNum']!r} is not a PCG account")
    if bool(row["CompAuxNum"]) != bool(row["CompAuxLib"]):
        errors.append(f"{where}: CompAuxNum and CompAuxLib go together")
    for name in ("Debit", "Credit"):
        if not AMOUNT.match(row[name]):
            errors.append(f"{where}: {name} {row[name]!r} is not an amount with a decimal comma")
    if bool(row["EcritureLet"]) != bool(row["DateLet"]):
        errors.append(f"{where}: EcritureLet and DateLet go together")
    if row["DateLet"] and _date(row["DateLet"]) is None:
        errors.append(f"{where}: DateLet {row['DateLet']!r} is not a date YYYYMMDD")
    if bool(row["Montantdevise"]) != bool(row["Idevise"]):
        errors.append(f"{where}: Montantdevise and Idevise go together")


def _check_entries(rows: list[dict[str, str]], closing: date | None, errors: list[str]) -> None:
    by_number: dict[str, list[dict[str, str]]] = defaultdict(list)
    order: list[str] = []
    for row in rows:
        if row["EcritureNum"] not in by_number:
            order.append(row["EcritureNum"])
        elif order[-1] != row["EcritureNum"]:
            errors.append(f"entry {row['EcritureNum']}: its lines are not together")
        by_number[row["EcritureNum"]].append(row)
    if order != [str(n) for n in range(1, len(order) + 1)]:
        errors.append(f"EcritureNum is not continuous from 1: {order[:20]}")
    previous: date | None = None
    for number in order:
        lines = by_number[number]
        if len(lines) < 2:
            errors.append(f"entry {number}: fewer than two lines")
        if any(not AMOUNT.match(r["Debit"]) or not AMOUNT.match(r["Credit"]) for r in lines):
            continue
        debits = sum((_money(r["Debit"]) for r in lines), Decimal(0))
        credits = sum((_money(r["Credit"]) for r in lines), Decimal(0))
        if debits != credits:
            errors.append(f"entry {number}: debits {debits} and credits {credits} differ")
        for name in ("JournalCode", "EcritureDate", "PieceRef"):
            if len({r[name] for r in lines}) != 1:
                errors.append(f"entry {number}: its lines differ in {name}")
        on = _date(lines[0]["EcritureDate"])
        if on is not None:
            if closing is not None and on > closing:
                errors.append(f"entry {number}: dated after the closing date")
            if previous is not None and on < previous:
                errors.append(f"entry {number}: dated before the entry numbered before it")
            previous = on


def read_fec(path: Path) -> FecFile:
    """Parse `path` as an FEC and check it whole."""
    found = FecFile()
    named = FILE_NAME.match(path.name)
    if named is None:
        found.errors.append(f"file name {path.name!r} is not <SIREN>FEC<YYYYMMDD>.txt")
    else:
        found.siren, found.closing = named["siren"], _date(named["closing"])
    raw = path.read_bytes()
    try:
        text = raw.decode("iso-8859-15")
    except UnicodeDecodeError as bad:
        found.errors.append(f"not ISO-8859-15: {bad}")
        return found
    lines = text.splitlines()
    if not lines:
        found.errors.append("the file is empty")
        return found
    header = lines[0]
    seps = [s for s in ("\t", "|") if s in header]
    if len(seps) != 1:
        found.errors.append("the header must use exactly one separator, tab or |")
        return found
    found.separator = seps[0]
    if header.split(found.separator) != NAMES:
        found.errors.append(f"the header is not the 18 columns in order: {header!r}")
        return found
    for number, line in enumerate(lines[1:], start=2):
        values = line.split(found.separator)
        if len(values) != len(NAMES):
            found.errors.append(f"line {number}: {len(values)} fields, not 18")
            continue
        row = dict(zip(NAMES, values, strict=True))
        _check_row(number, row, found.errors)
        found.rows.append(row)
    if not found.rows:
        found.errors.append("no entry")
    _check_entries(found.rows, found.closing, found.errors)
    return found
