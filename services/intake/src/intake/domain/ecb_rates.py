"""The ECB main refinancing rates that French late-payment interest is built on, read from the
file shipped with intake (domain/data/ecb_main_refinancing_rates.csv)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources

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
    """The rate table shipped with intake (domain/data/ecb_main_refinancing_rates.csv)."""
    text = resources.files("intake.domain.data").joinpath(RATES_FILE).read_text("utf-8")
    source = f"intake/domain/data/{RATES_FILE} (European Central Bank, key ECB interest rates)"
    return parse_rate_table(text.splitlines(), source)


def half_year_start(day: date) -> date:
    """1 January or 1 July of the half-year containing day."""
    return date(day.year, 1 if day.month <= 6 else 7, 1)


def half_year_end(day: date) -> date:
    """30 June or 31 December of the half-year containing day."""
    return date(day.year, 6, 30) if day.month <= 6 else date(day.year, 12, 31)
