"""The ECB main refinancing rates that French late-payment interest is built on: the file shipped
with Recouvra (data/ecb_main_refinancing_rates.csv beside this module) is the seed, and the
changes operators import from the ECB Data Portal (`python -m intake rates import FILE`)
extend it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

from recouvra_shared.errors import InvalidField
from recouvra_shared.legal.ecb_export import SERIES_KEY, EcbExport

RATES_FILE = "ecb_main_refinancing_rates.csv"


@dataclass(frozen=True)
class RateTable:
    """ECB main refinancing rates by effective date, and how far the table was checked."""

    changes: tuple[tuple[date, Decimal], ...]
    verified_through: date
    source: str

    def rate_on(self, day: date) -> Decimal:
        """The ECB main refinancing rate in force on a day, in percent."""
        rate: Decimal | None = None
        for effective, value in self.changes:
            if effective > day:
                break
            rate = value
        if rate is None:
            raise ValueError(f"no ECB rate known on {day} (the table starts {self.changes[0][0]})")
        return rate


def parse_rate_table(lines: Iterable[str], source: str) -> RateTable:
    """Read the rate file: '#' comments (one says 'verified_through: YYYY-MM-DD'), then CSV."""
    verified: date | None = None
    data: list[str] = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("#"):
            if stripped.startswith("# verified_through:"):
                verified = date.fromisoformat(stripped.split(":", 1)[1].strip())
        elif stripped:
            data.append(stripped)
    changes = tuple(
        sorted(
            (date.fromisoformat(row["effective_date"]), Decimal(row["rate_percent"]))
            for row in csv.DictReader(data)
        )
    )
    if verified is None or not changes:
        raise ValueError("the rate file needs a '# verified_through:' line and at least one rate")
    return RateTable(changes=changes, verified_through=verified, source=source)


@lru_cache(maxsize=1)
def shipped_rates() -> RateTable:
    """The rate table shipped with Recouvra (data/ecb_main_refinancing_rates.csv here)."""
    text = resources.files("recouvra_shared.legal.data").joinpath(RATES_FILE).read_text("utf-8")
    source = (
        f"recouvra_shared/legal/data/{RATES_FILE} (European Central Bank, key ECB interest rates)"
    )
    return parse_rate_table(text.splitlines(), source)


def half_year_start(day: date) -> date:
    """1 January or 1 July of the half-year containing day."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_end(day: date) -> date:
    """30 June or 31 December of the half-year containing day."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)


@dataclass(frozen=True)
class ImportedRates:
    """The rate changes operators imported, and the latest date an import was verified through."""

    changes: tuple[tuple[date, Decimal], ...] = ()
    verified_through: date | None = None


@dataclass(frozen=True)
class RateImport:
    """What one ECB export adds: the new changes, and the table with them."""

    added: tuple[tuple[date, Decimal], ...]
    table: RateTable
    previously_verified_through: date


def imported_source(verified_through: date) -> str:
    """Where imported rates come from, as amounts name their source."""
    return f"ECB Data Portal series {SERIES_KEY} imported, verified through {verified_through}"


def with_imports(seed: RateTable, imported: ImportedRates) -> RateTable:
    """The shipped table extended by the imported changes."""
    if imported.verified_through is None:
        return seed
    verified = max(seed.verified_through, imported.verified_through)
    return RateTable(
        changes=tuple(sorted({**dict(seed.changes), **dict(imported.changes)}.items())),
        verified_through=verified,
        source=f"{seed.source}; {imported_source(verified)}",
    )


def _in_force(observations: tuple[tuple[date, Decimal | None], ...], day: date) -> Decimal | None:
    rate: Decimal | None = None
    for effective, value in observations:
        if effective > day:
            break
        rate = value
    return rate


def merge_export(table: RateTable, export: EcbExport, downloaded_on: date | None) -> RateImport:
    """The table with the export's changes after its verified date; refused when the export
    disagrees with the verified part of the table (then it is not that series, or not intact)."""
    start = table.changes[0][0]
    if export.observations[0][0] > table.verified_through:
        raise InvalidField(
            "file",
            f"starts on {export.observations[0][0]}, after {table.verified_through} (the date the"
            " table is verified through): changes in between could be missing; export the"
            " series' whole history",
        )
    dated = [day for day, rate in export.observations if rate is not None]
    first = max(start, dated[0]) if dated else export.last_observation
    end = min(export.last_observation, table.verified_through)
    checked = {first} | {d for d, _ in table.changes} | {d for d, _ in export.observations}
    for day in sorted(d for d in checked if first <= d <= end):
        theirs, ours = _in_force(export.observations, day), table.rate_on(day)
        if theirs is not None and theirs != ours:
            raise InvalidField(
                "file",
                f"gives {theirs}% in force on {day} where the table, verified through "
                f"{table.verified_through}, has {ours}%",
            )
    added: list[tuple[date, Decimal]] = []
    current = table.rate_on(table.verified_through)
    for day, rate in export.observations:
        if day > table.verified_through and rate is not None and rate != current:
            added.append((day, rate))
            current = rate
    verified = max(table.verified_through, export.last_observation, downloaded_on or start)
    merged = RateTable(
        changes=tuple(sorted({**dict(table.changes), **dict(added)}.items())),
        verified_through=verified,
        source=table.source,
    )
    return RateImport(tuple(added), merged, table.verified_through)
