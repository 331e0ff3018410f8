"""Where the debtor is: the ISO 3166 region intake announces so matching can pick providers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pycountry
import pytest
from google.protobuf.any_pb2 import Any as Packed

from intake.adapters.einvoice import read_einvoice
from intake.domain.commands import SubmitCase
from intake.domain.csv_import import read_cases
from intake.domain.debtors import DebtorInput
from intake.domain.invoices import InvoiceInput
from intake.domain.model import new_case
from intake.domain.regions import FRENCH_POSTAL_EXCEPTIONS, debtor_region
from intake.service_layer.events import case_submitted
from recouvra.events.v1.case_events_pb2 import CaseSubmitted

TODAY = date(2026, 11, 23)
INTAKE = Path(__file__).resolve().parents[2]
METROPOLITAN_REGIONS = {
    "FR-ARA",
    "FR-BFC",
    "FR-BRE",
    "FR-CVL",
    "FR-GES",
    "FR-HDF",
    "FR-IDF",
    "FR-NOR",
    "FR-NAQ",
    "FR-OCC",
    "FR-PDL",
    "FR-PAC",
}


def top_level_french_codes() -> set[str]:
    return {
        s.code
        for s in pycountry.subdivisions
        if s.country_code == "FR" and not getattr(s, "parent_code", None)
    }


@pytest.mark.parametrize(
    ("country", "postal_code", "region"),
    [
        ("FR", "75008", "FR-IDF"),  # Paris: FR-75C, a collectivity inside Île-de-France
        ("FR", "69003", "FR-ARA"),  # Lyon
        # ISO 3166-2:FR replaced the region FR-COR by the collectivity FR-20R in 2019.
        ("FR", "20000", "FR-20R"),  # Ajaccio, Corse-du-Sud (2A)
        ("FR", "20200", "FR-20R"),  # Bastia, Haute-Corse (2B)
        ("FR", "97110", "FR-971"),  # Pointe-à-Pitre, Guadeloupe
        ("FR", "59000", "FR-HDF"),  # Lille
        ("FR", "67000", "FR-GES"),  # Strasbourg: Bas-Rhin -> Alsace (FR-6AE) -> Grand Est
        ("FR", "97133", "FR-BL"),  # Saint-Barthélemy shares Guadeloupe's prefix, not its region
        ("fr", " 13001 ", "FR-PAC"),
        ("DE", "10115", "DE"),
        ("de", "", "DE"),
        ("FR", "96000", "FR"),  # no department 96
        ("FR", "20300", "FR"),  # neither Corse-du-Sud nor Haute-Corse
        ("FR", "98000", "FR"),  # Monaco's postal code is not France
        ("MC", "98000", "MC"),
        ("FR", "7500", "FR"),
        ("", "", ""),
    ],
)
def test_the_region_comes_from_the_country_and_the_postal_code(
    country: str, postal_code: str, region: str
) -> None:
    assert debtor_region(country, postal_code) == region


def test_every_mainland_department_lands_in_one_of_the_twelve_mainland_regions() -> None:
    departments = [f"{n:02d}" for n in range(1, 96) if n != 20]
    regions = {department: debtor_region("FR", f"{department}100") for department in departments}
    assert set(regions.values()) == METROPOLITAN_REGIONS
    ile_de_france = {d for d, region in regions.items() if region == "FR-IDF"}
    assert ile_de_france == {"75", "77", "78", "91", "92", "93", "94", "95"}


def test_every_overseas_department_is_its_own_iso_subdivision() -> None:
    found = {debtor_region("FR", f"{prefix}00") for prefix in ("971", "972", "973", "974", "976")}
    assert found == {"FR-971", "FR-972", "FR-973", "FR-974", "FR-976"}


def test_every_code_given_is_a_top_level_iso_3166_2_fr_subdivision() -> None:
    top = top_level_french_codes()
    postal_codes = [f"{n:05d}" for n in range(0, 100_000, 100)]
    given = {debtor_region("FR", code) for code in postal_codes} - {"FR"}
    given |= set(FRENCH_POSTAL_EXCEPTIONS.values())
    assert given <= top
    assert METROPOLITAN_REGIONS | {"FR-20R", "FR-971", "FR-BL", "FR-NC"} <= given


def submitted(debtor: DebtorInput) -> CaseSubmitted:
    command = SubmitCase(
        creditor_id="creditor-a",
        debtor=debtor,
        invoices=(InvoiceInput("F-1", "2026-01-01", "2026-01-31", "EUR", "10.00"),),
    )
    return unpacked(case_submitted(new_case(command, TODAY)).envelope.payload)


def unpacked(payload: Packed) -> CaseSubmitted:
    event = CaseSubmitted()
    assert payload.Unpack(event)
    return event


def test_the_case_submitted_event_carries_the_debtors_region() -> None:
    lyon = DebtorInput(
        kind="company",
        name="Atelier Durand SARL",
        address_lines=("5 rue des Forges",),
        postal_code="69002",
        city="Lyon",
    )
    # No country typed: intake takes an address as French, so the region is still known.
    assert submitted(lyon).debtor_region == "FR-ARA"
    berlin = DebtorInput(
        kind="company", name="Berlin GmbH", postal_code="10115", city="Berlin", country_code="DE"
    )
    assert submitted(berlin).debtor_region == "DE"
    assert submitted(DebtorInput(kind="consumer", name="Jean Dupont")).debtor_region == ""


def test_imported_cases_carry_their_debtors_region() -> None:
    content = (INTAKE / "docs" / "sample-import.csv").read_bytes()
    regions = [
        unpacked(case_submitted(new_case(c.command, TODAY)).envelope.payload).debtor_region
        for c in read_cases(content, "creditor-a")
        if c.command is not None
    ]
    # Paris, Lyon, Bordeaux, Nantes.
    assert regions == ["FR-IDF", "FR-ARA", "FR-NAQ", "FR-PDL"]

    ubl = (INTAKE / "tests" / "data" / "invoice-ubl.xml").read_bytes()
    read = read_einvoice(ubl, "creditor-a", disputed=False, notes="", amount_due="")
    event = unpacked(case_submitted(new_case(read.command, TODAY)).envelope.payload)
    # The buyer is in Paris; the seller's Lille address must not leak into the region.
    assert event.debtor_region == "FR-IDF"
