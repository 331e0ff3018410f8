"""The CSV bulk-import format (documented in services/intake/docs/csv-import.md): one case
per row, columns named after the fields of a case."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from intake.domain.commands import SubmitCase
from intake.domain.debtors import DebtorInput
from intake.domain.errors import InvalidField, Violation
from intake.domain.invoices import InvoiceInput

MAX_ROWS = 100_000
MAX_REFERENCE = 100
MAX_BYTES = 50 * 1024 * 1024
REQUIRED = (
    "invoice_number",
    "issue_date",
    "due_date",
    "currency",
    "amount_due",
    "debtor_kind",
    "debtor_name",
)
OPTIONAL = (
    "case_reference",
    "total_amount",
    "description",
    "debtor_siren_or_siret",
    "debtor_vat_number",
    "debtor_address_line1",
    "debtor_address_line2",
    "debtor_address_line3",
    "debtor_postal_code",
    "debtor_city",
    "debtor_country",
    "debtor_email",
    "debtor_phone",
    "debtor_iban",
    "debtor_bic",
    "disputed",
    "notes",
)
COLUMNS = REQUIRED + OPTIONAL
# Every column, blank: what a row reads where the file has no such column or value.
_BLANK: dict[str, str] = dict.fromkeys(COLUMNS, "")

# Where each field of a case comes from in the file, so that refusals name the column.
_FIELD_TO_COLUMN = {
    "debtor.kind": "debtor_kind",
    "debtor.name": "debtor_name",
    "debtor.siren_or_siret": "debtor_siren_or_siret",
    "debtor.vat_number": "debtor_vat_number",
    "debtor.address.lines": "debtor_address_line1",
    "debtor.address.lines[0]": "debtor_address_line1",
    "debtor.address.lines[1]": "debtor_address_line2",
    "debtor.address.lines[2]": "debtor_address_line3",
    "debtor.address.postal_code": "debtor_postal_code",
    "debtor.address.city": "debtor_city",
    "debtor.address.country_code": "debtor_country",
    "debtor.email": "debtor_email",
    "debtor.phone": "debtor_phone",
    "debtor.bank_account.iban": "debtor_iban",
    "debtor.bank_account.bic": "debtor_bic",
    "notes": "notes",
    "invoices": "case_reference",
}
_TRUE = {"yes", "y", "true", "1", "oui", "o"}
_FALSE = {"", "no", "n", "false", "0", "non"}
_YES_OR_NO = _TRUE | _FALSE


@dataclass(frozen=True)
class Row:
    """One data row: its line in the file and either a command or its violations."""

    line: int
    command: SubmitCase | None
    violations: tuple[Violation, ...] = ()
    reference: str = ""


@dataclass(frozen=True)
class CsvCase:
    """The rows that make one case (one row, or every row sharing a case_reference)."""

    lines: tuple[int, ...]
    # None when a row could not even be read; the problems then say why.
    command: SubmitCase | None
    # Problems found while reading, by line (the case is refused when there are any).
    problems: dict[int, tuple[Violation, ...]]

    def refuse(self, violations: Sequence[Violation]) -> dict[int, tuple[Violation, ...]]:
        """Spread the reading problems and a case's violations over its lines: invoices[i] is
        line i, the rest the first line; lines with nothing of their own are told which line
        sank them."""
        by_line: dict[int, list[Violation]] = {k: list(v) for k, v in self.problems.items()}
        for violation in violations:
            line, column = self.lines[0], column_of(violation.field)
            if violation.field.startswith("invoices["):
                index, _, rest = violation.field.removeprefix("invoices[").partition("].")
                if index.isdigit() and int(index) < len(self.lines) and rest:
                    line, column = self.lines[int(index)], rest
            by_line.setdefault(line, []).append(Violation(column, violation.rule))
        return _spread(self.lines, by_line)


def _spread(
    lines: Sequence[int], by_line: dict[int, list[Violation]]
) -> dict[int, tuple[Violation, ...]]:
    first_bad = min(by_line)
    sunk = (Violation("case_reference", f"the case is refused because of line {first_bad}"),)
    return {line: tuple(by_line[line]) if line in by_line else sunk for line in lines}


def column_of(field: str) -> str:
    """The CSV column a case field was read from."""
    if field.startswith("invoices[0]."):
        return field.removeprefix("invoices[0].")
    return _FIELD_TO_COLUMN.get(field, field)


def _lines(content: bytes) -> Iterator[str]:
    """The file's lines, decoded as they are read: the text never exists whole (a 100,000-row
    file is read in one pass over the bytes it arrived in, issue 13 point 10)."""
    if len(content) > MAX_BYTES:
        raise InvalidField("content", f"must be at most {MAX_BYTES // (1024 * 1024)} MiB")
    # BytesIO shares the bytes it is given; the wrapper decodes a few KiB at a time.
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    line = 0
    try:
        for line, read in enumerate(text, start=1):  # noqa: B007 (read after the loop)
            yield read
    except UnicodeDecodeError:
        raise InvalidField("content", f"must be UTF-8 text (line {line + 1} is not)") from None


def _records(content: bytes) -> Iterator[tuple[int, dict[str, str] | None]]:
    """Each data record and its line, once the header is checked: its values by column, each
    stripped (a column the row has no value for is absent), or None when the row has more
    values than the header has columns. Blank lines are skipped. InvalidField('content', ...)
    when the file as a whole is unusable."""
    lines = _lines(content)
    first_line = next(lines, "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(itertools.chain([first_line], lines), delimiter=delimiter, strict=True)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header:
            raise InvalidField("content", "is empty: a header line is required")
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise InvalidField("content", f"lacks the required column(s): {', '.join(missing)}")
        unknown = [name for name in header if name not in COLUMNS]
        if unknown:
            raise InvalidField(
                "content",
                f"has unknown column(s): {', '.join(unknown)}"
                " (see services/intake/docs/csv-import.md)",
            )
        width = len(header)
        rows = 0
        for values in reader:
            if not values:
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise InvalidField("content", f"must have at most {MAX_ROWS:,} data rows")
            if len(values) > width:
                yield reader.line_num, None
                continue
            # One dict built in C; a column named twice keeps its last value, as before.
            yield reader.line_num, dict(zip(header, map(str.strip, values), strict=False))
    except csv.Error as exc:
        raise InvalidField(
            "content", f"is not valid CSV near line {reader.line_num}: {exc}"
        ) from None


def read_rows(content: bytes, creditor_id: str) -> Iterator[Row]:
    """Parse the file row by row; InvalidField('content', ...) when the file as a whole is
    unusable."""
    for line, record in _records(content):
        yield _row(line, record, creditor_id)


def _decimal(text: str) -> str:
    """French spreadsheets write 1234,56: a lone comma is the decimal separator."""
    return text.replace(",", ".") if text.count(",") == 1 and "." not in text else text


def _row(line: int, record: dict[str, str] | None, creditor_id: str) -> Row:
    if record is None:
        return Row(line, None, (Violation("row", "has more values than the header has columns"),))

    # A missing trailing value or column reads "".
    values = _BLANK | record

    if len(values["case_reference"]) > MAX_REFERENCE:
        return Row(
            line,
            None,
            (Violation("case_reference", f"must be at most {MAX_REFERENCE} characters"),),
        )
    disputed_text = values["disputed"].lower()
    if disputed_text not in _YES_OR_NO:
        return Row(line, None, (Violation("disputed", "must be yes or no"),))
    command = SubmitCase(
        creditor_id=creditor_id,
        debtor=DebtorInput(
            kind=values["debtor_kind"],
            name=values["debtor_name"],
            siren_or_siret=values["debtor_siren_or_siret"],
            vat_number=values["debtor_vat_number"],
            address_lines=tuple(
                line
                for line in (
                    values["debtor_address_line1"],
                    values["debtor_address_line2"],
                    values["debtor_address_line3"],
                )
                if line
            ),
            postal_code=values["debtor_postal_code"],
            city=values["debtor_city"],
            country_code=values["debtor_country"],
            email=values["debtor_email"],
            phone=values["debtor_phone"],
            iban=values["debtor_iban"],
            bic=values["debtor_bic"],
        ),
        invoices=(
            InvoiceInput(
                invoice_number=values["invoice_number"],
                issue_date=values["issue_date"],
                due_date=values["due_date"],
                currency=values["currency"],
                amount_due=_decimal(values["amount_due"]),
                total_amount=_decimal(values["total_amount"]),
                description=values["description"],
            ),
        ),
        disputed=disputed_text in _TRUE,
        notes=values["notes"],
        source="csv",
    )
    return Row(line, command, reference=values["case_reference"])


def _reference(record: dict[str, str] | None) -> str:
    """The case_reference `_row` gives the record's row ("" for a row it refuses unread)."""
    if record is None:
        return ""
    reference = record.get("case_reference", "")
    if len(reference) > MAX_REFERENCE or record.get("disputed", "").lower() not in _YES_OR_NO:
        return ""
    return reference


def read_cases(content: bytes, creditor_id: str) -> Iterator[CsvCase]:
    """The file's cases in order of their first line: rows sharing a case_reference are the
    invoices of one case (debtor, dispute flag and notes from its first row).

    Streamed: a first pass (only when the header names case_reference) notes only the last
    line of each case_reference; the second parses the rows and hands each case on as soon as
    it and every case before it are complete, so only the cases still waiting for a later row
    are held (none when every case is one row or its rows are together)."""
    last_line: dict[str, int] = {}
    # Without a case_reference column every row is a case: the first pass would find nothing.
    header_end = content.find(b"\n")  # the header line alone, not a copy of the file
    if b"case_reference" in (content[:header_end] if header_end >= 0 else content):
        for line, record in _records(content):
            reference = _reference(record)
            if reference:
                last_line[reference] = line
    waiting: dict[str, list[Row]] = {}
    for row in read_rows(content, creditor_id):
        if not row.reference and not waiting:  # a case of its own, nothing before it waits
            yield _merge([row])
            continue
        key = f"ref:{row.reference}" if row.reference else f"line:{row.line}"
        waiting.setdefault(key, []).append(row)
        while waiting:
            head = next(iter(waiting))
            rows = waiting[head]
            reference = rows[0].reference
            if reference and last_line.get(reference, 0) > rows[-1].line:
                break
            del waiting[head]
            yield _merge(rows)
    for rows in waiting.values():
        yield _merge(rows)


def _merge(rows: list[Row]) -> CsvCase:
    if len(rows) == 1:  # most files: a case per row
        (row,) = rows
        if row.command is None:
            return CsvCase((row.line,), None, {row.line: row.violations})
        return CsvCase((row.line,), row.command, {})
    lines = tuple(r.line for r in rows)
    by_line: dict[int, list[Violation]] = {
        r.line: list(r.violations) for r in rows if r.command is None
    }
    first = rows[0].command
    if first is not None:
        for row in rows[1:]:
            debtor = row.command.debtor if row.command else None
            if debtor is not None and debtor.name and debtor != first.debtor:
                by_line.setdefault(row.line, []).append(
                    Violation(
                        "debtor_name",
                        f"must describe the same debtor as line {lines[0]} (same case_reference)"
                        " or be left empty",
                    )
                )
    problems = {line: tuple(found) for line, found in by_line.items()}
    if first is None or any(r.command is None for r in rows):
        return CsvCase(lines, None, problems)
    commands = [r.command for r in rows if r.command is not None]
    notes = list(dict.fromkeys(c.notes for c in commands if c.notes))
    return CsvCase(
        lines,
        replace(
            first,
            invoices=tuple(i for c in commands for i in c.invoices),
            disputed=any(c.disputed for c in commands),
            notes="\n".join(notes),
        ),
        problems,
    )
