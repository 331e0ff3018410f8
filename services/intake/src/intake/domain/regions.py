"""Where a debtor is, in the ISO 3166 codes providers declare their territories with."""

from __future__ import annotations

import re
from functools import cache

import pycountry

FRANCE = "FR"

# French postal codes that do not follow their department: the overseas collectivities carry
# their own ISO 3166-2:FR code. Saint-Barthélemy and Saint-Martin share Guadeloupe's 971 prefix
# but left it in 2007, so they are matched on their full postal code, before any prefix.
FRENCH_POSTAL_EXCEPTIONS: dict[str, str] = {
    "97133": "FR-BL",
    "97150": "FR-MF",
    "975": "FR-PM",
    "986": "FR-WF",
    "987": "FR-PF",
    "988": "FR-NC",
}

# Corsica's postal codes split by hundreds, not by department number (20 is not a department).
CORSICA_DEPARTMENTS: dict[str, str] = {"200": "2A", "201": "2A", "202": "2B", "206": "2B"}

_POSTAL_CODE = re.compile(r"\d{5}")
# A subdivision that stands for a department: FR-69, FR-2A, FR-971, or a collectivity that
# replaced one and kept its number with a letter (FR-75C Paris, FR-69M Métropole de Lyon).
_DEPARTMENT_CODE = re.compile(r"FR-(?P<number>\d{2,3}|2[AB])(?P<collectivity>[A-Z])?")


def debtor_region(country_code: str, postal_code: str) -> str:
    """The debtor's ISO 3166-2 region when its address allows it, else its country, else ''."""
    country = country_code.strip().upper()
    if country != FRANCE:
        return country
    return french_region(postal_code) or FRANCE


def french_region(postal_code: str) -> str:
    """The top-level ISO 3166-2:FR subdivision of a French postal code, '' when none is certain."""
    code = postal_code.strip()
    if not _POSTAL_CODE.fullmatch(code):
        return ""
    for prefix in (code, code[:3]):
        if prefix in FRENCH_POSTAL_EXCEPTIONS:
            return FRENCH_POSTAL_EXCEPTIONS[prefix]
    department = _department(code)
    subdivision = _subdivisions_by_department().get(department, "")
    return _top_level(subdivision) if subdivision else ""


def _department(postal_code: str) -> str:
    if postal_code.startswith("20"):
        return CORSICA_DEPARTMENTS.get(postal_code[:3], "")
    if postal_code.startswith(("97", "98")):
        return postal_code[:3]
    return postal_code[:2]


@cache
def _french_subdivisions() -> dict[str, str]:
    """Every ISO 3166-2:FR code -> its parent's code ('' for a top-level subdivision)."""
    return {
        subdivision.code: subdivision.parent_code or ""
        for subdivision in pycountry.subdivisions
        if subdivision.country_code == FRANCE
    }


@cache
def _subdivisions_by_department() -> dict[str, str]:
    """Department number -> its ISO 3166-2:FR code; the plain department wins over a
    collectivity sharing its number (FR-69 over FR-69M: both lie in FR-ARA)."""
    found: dict[str, str] = {}
    for code in sorted(_french_subdivisions()):
        match = _DEPARTMENT_CODE.fullmatch(code)
        if match is None:
            continue
        number = match["number"]
        if match["collectivity"] is None or number not in found:
            found[number] = code
    return found


def _top_level(code: str) -> str:
    """Climb the parents (FR-67 -> FR-6AE -> FR-GES) up to the subdivision that has none."""
    parents = _french_subdivisions()
    seen = {code}
    while parent := parents.get(code, ""):
        if parent in seen:
            break
        seen.add(parent)
        code = parent
    return code
