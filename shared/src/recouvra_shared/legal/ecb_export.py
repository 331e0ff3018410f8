"""The ECB Data Portal's CSV export of the main refinancing operations rate, read and checked
before its rate changes may reach the table late-payment interest is computed from.

Two shapes are read, both from https://data.ecb.europa.eu (series FM.B.U2.EUR.4F.KR.MRR_FR.LEV):
- the portal's download: `"DATE","TIME PERIOD","<series title> (FM.B.U2.EUR.4F.KR.MRR_FR.LEV)"`,
  one row per date of change (`"2025-06-11","11 Jun 2025","2.15"`);
- the API's SDMX-CSV (`.../service/data/FM/B.U2.EUR.4F.KR.MRR_FR.LEV?format=csvdata`): columns
  KEY, FREQ, ..., TIME_PERIOD, OBS_VALUE, ..., every row's KEY naming the series.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from recouvra_shared.errors import InvalidField, InvalidRequest, Violation

SERIES_KEY = "FM.B.U2.EUR.4F.KR.MRR_FR.LEV"
SERIES_NAME = f"{SERIES_KEY} (main refinancing operations, fixed rate, date of changes)"
# Fixed rate tenders resumed on that day; before, from 2000-06-28, the series has no fixed rate.
FIXED_RATES_SINCE = date(2008, 10, 15)
MAX_BYTES = 1024 * 1024
MAX_REPORTED = 20
_MISSING = {"", "NaN", "nan", "-"}
PORTAL_COLUMNS = ("DATE", "TIME PERIOD")
API_COLUMNS = ("KEY", "TIME_PERIOD", "OBS_VALUE")


@dataclass(frozen=True)
class EcbExport:
    """The series' observations in date order; a rate is None where the series has none."""

    observations: tuple[tuple[date, Decimal | None], ...]

    @property
    def last_observation(self) -> date:
        """The date of the file's last observation."""
        return self.observations[-1][0]


@dataclass(frozen=True)
class _Shape:
    date_column: str
    value_column: str
    key_column: str | None


def _decode(content: bytes) -> str:
    if len(content) > MAX_BYTES:
        raise InvalidField("file", f"must be at most {MAX_BYTES // 1024} KiB")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidField("file", f"must be UTF-8 text (byte {exc.start} is not)") from None


def _shape(header: list[str]) -> _Shape:
    """Which export this header is, refusing one of another series or with other columns."""
    if all(column in header for column in API_COLUMNS):
        return _Shape("TIME_PERIOD", "OBS_VALUE", "KEY")
    if len(header) == 3 and tuple(header[:2]) == PORTAL_COLUMNS:
        title = header[2]
        named = title.rsplit("(", 1)[-1].rstrip(")").strip() if title.endswith(")") else ""
        if not named:
            raise InvalidField("file", f"third column {title!r} names no series key")
        if named != SERIES_KEY:
            raise InvalidField("file", f"is the series {named}, not {SERIES_NAME}")
        return _Shape("DATE", title, None)
    raise InvalidField(
        "file",
        "has neither the ECB Data Portal's columns (DATE, TIME PERIOD, then the series) nor the"
        f" API's (KEY, TIME_PERIOD, OBS_VALUE): found {', '.join(header) or 'no header'}",
    )


def _rate(text: str) -> Decimal | None:
    """The rate of a cell in percent, None when the series has no value there."""
    if text in _MISSING:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or abs(value) >= 100:
        raise ValueError(text)
    return value


def read_ecb_export(content: bytes) -> EcbExport:
    """The file's observations; InvalidRequest lists what makes it not that series' export."""
    reader = csv.reader(io.StringIO(_decode(content), newline=""))
    try:
        header = [column.strip() for column in next(reader, [])]
        shape = _shape(header)
        at = {name: header.index(name) for name in header}
        problems: list[Violation] = []
        observations: list[tuple[date, Decimal | None]] = []
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            problem = _observation(row, at, shape, observations)
            if problem:
                problems.append(Violation(f"line {line}", problem))
    except csv.Error as exc:
        raise InvalidField("file", f"is not valid CSV near line {reader.line_num}: {exc}") from None
    if problems:
        more = len(problems) - MAX_REPORTED
        shown = problems[:MAX_REPORTED]
        if more > 0:
            shown.append(Violation("file", f"and {more} more lines break a rule"))
        raise InvalidRequest(shown)
    if not observations:
        raise InvalidField("file", "has no observation")
    return EcbExport(tuple(observations))


def _observation(
    row: list[str],
    at: dict[str, int],
    shape: _Shape,
    observations: list[tuple[date, Decimal | None]],
) -> str:
    """Append the row's observation; the rule it breaks otherwise."""
    if len(row) != len(at):
        return f"has {len(row)} values where the header has {len(at)} columns"
    if shape.key_column is not None and row[at[shape.key_column]].strip() != SERIES_KEY:
        return f"KEY {row[at[shape.key_column]].strip()!r} is not {SERIES_NAME}"
    raw_date = row[at[shape.date_column]].strip()
    try:
        day = date.fromisoformat(raw_date)
    except ValueError:
        return f"{shape.date_column} {raw_date!r} is not a date (YYYY-MM-DD)"
    raw_value = row[at[shape.value_column]].strip()
    try:
        rate = _rate(raw_value)
    except ValueError:
        return f"the rate {raw_value!r} of {day} is not a number of percent"
    if rate is not None and rate != rate.quantize(Decimal("0.01")):
        return f"the rate {raw_value!r} of {day} has more than two decimals (the ECB publishes two)"
    if rate is None and day >= FIXED_RATES_SINCE:
        return f"has no rate on {day} (the fixed rate is published for every change since 2008)"
    if observations and day <= observations[-1][0]:
        return f"{day} is not after {observations[-1][0]}: the dates must increase"
    observations.append((day, rate))
    return ""
