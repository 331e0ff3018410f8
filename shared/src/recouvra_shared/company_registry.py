"""The offline company registry (a SIRENE extract in its public columns), for the services that
need to know whether a company exists and is still trading: the gateway vets providers and
creditors with it. Scoring reads the same columns for its debtor facts
(scoring.adapters.registry); `data/company_registry.csv` is a copy of its file, to become the
one file both read."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REGISTRY_FILE = Path(__file__).parent / "data" / "company_registry.csv"


@dataclass(frozen=True)
class RegisteredCompany:
    """What the registry says of one SIREN: its name and whether it still trades."""

    siren: str
    name: str
    active: bool


def _compact(siren: str) -> str:
    return "".join(c for c in siren if c.isdigit())[:9]


class CsvCompanyRegistry:
    """Companies from a CSV in SIRENE's StockUniteLegale columns (siren,
    denominationUniteLegale, etatAdministratifUniteLegale: A active, C ceased), read once."""

    def __init__(self, path: Path = DEFAULT_REGISTRY_FILE) -> None:
        self.companies: dict[str, RegisteredCompany] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                siren = _compact(row["siren"])
                self.companies[siren] = RegisteredCompany(
                    siren=siren,
                    name=row["denominationUniteLegale"],
                    active=row.get("etatAdministratifUniteLegale", "A").strip() != "C",
                )

    async def lookup(self, siren: str) -> RegisteredCompany | None:
        """The company with this SIREN, or None when the registry does not know it."""
        return self.companies.get(_compact(siren))
