"""Company facts (KYC) behind one interface: an offline registry file now, a public client later.

The interface is `CompanyRegistry.lookup(siren) -> CompanyFacts | None` (in
`service_layer/ports.py`). Two implementations are intended:

- `CsvCompanyRegistry` (built): a CSV file in the columns of the public data sets, used by tests
  and local runs. SIRENE's StockUniteLegale gives ``siren``, ``denominationUniteLegale``,
  ``dateCreationUniteLegale``, ``categorieJuridiqueUniteLegale``, ``trancheEffectifsUniteLegale``
  and ``etatAdministratifUniteLegale`` (A active, C ceased); BODACC's commercial announcements
  give, per company, its latest ``familleavis`` (``collective`` for collective proceedings),
  ``dateparution`` and the judgement's nature, prefixed ``bodacc_``.
- A production client (NOT built): the same `lookup` answered from INSEE's Sirene API (identity,
  state, size band) and the BODACC open-data API (latest collective-proceedings announcement),
  with a timeout, a short cache and the registry's rate limits respected. A lookup that fails
  must answer None (unverified), never block scoring.

A company is in insolvency proceedings when its latest BODACC announcement is of the
``collective`` family and is not a closing judgement (``clôture``): safeguard, receivership
(redressement) and liquidation all require the claim to be declared instead of chased.
"""

from __future__ import annotations

import csv
import unicodedata
from datetime import date
from pathlib import Path

from stdnum.fr import siren as siren_number

from scoring.domain.facts import CompanyFacts

DEFAULT_REGISTRY_FILE = Path(__file__).parent / "data" / "company_registry.csv"


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def in_proceedings(family: str, nature: str) -> bool:
    """Whether a BODACC announcement opens (or continues) collective proceedings."""
    return family.strip().lower() == "collective" and "cloture" not in _plain(nature)


def _date(value: str) -> date | None:
    return date.fromisoformat(value) if value.strip() else None


class CsvCompanyRegistry:
    """Company facts from an offline CSV in SIRENE + BODACC columns, read once when built."""

    def __init__(self, path: Path = DEFAULT_REGISTRY_FILE) -> None:
        self.companies: dict[str, CompanyFacts] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                number = siren_number.compact(row["siren"])
                family = row.get("bodacc_familleavis", "")
                nature = row.get("bodacc_jugement_nature", "")
                proceedings = in_proceedings(family, nature)
                self.companies[number] = CompanyFacts(
                    siren=number,
                    name=row["denominationUniteLegale"],
                    created_on=_date(row.get("dateCreationUniteLegale", "")),
                    legal_category=row.get("categorieJuridiqueUniteLegale", ""),
                    size_band=row.get("trancheEffectifsUniteLegale", ""),
                    active=row.get("etatAdministratifUniteLegale", "A").strip() != "C",
                    insolvency_proceedings=nature if proceedings else None,
                    insolvency_published_on=(
                        _date(row.get("bodacc_dateparution", "")) if proceedings else None
                    ),
                )

    async def lookup(self, siren: str) -> CompanyFacts | None:
        return self.companies.get(siren_number.compact(siren)[:9])
