"""Proposing a case for a suspense credit by the payer's name, when its reference is missing or
names no case and its amount alone did not match (issue 14, point 3).

A payer's name on a bank line is not proof: a namesake, a relative paying for someone else, a
company and its director. So a name never books money by itself: it **proposes** candidates to
the operator who works the suspense queue, and the operator confirms one (AssignSuspense) or
refunds the credit. What is proposed:

- only open cases that still owe at least the credit on its value date (a payer who pays more
  than it owes is not taken for the debtor by name);
- scored by `confidence`, 0 to 100: the two names normalised (accents, case, punctuation and
  legal forms such as SARL, civilities such as M. or MME dropped), their words sorted so that
  "MARTIN JEAN" and "Jean Martin" agree, then compared character by character (difflib's
  ratio, 100 for the same words);
- proposed at PROPOSE_AT (80) or more: a typo or an initial passes, another first name does
  not ("Jean Martin" against "Jean Marin" scores 95, "J Martin" 84; "Paul Martin" 55). Close
  names of other people pass too ("Martine Jeanne" scores 88): that is why an operator decides;
- at most MAX_CANDIDATES, best first; an exact tie keeps every tied case, for the operator.

Nothing is booked automatically from a name, whatever the confidence: AUTO_BOOK_AT is None.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

PROPOSE_AT = 80
AUTO_BOOK_AT: int | None = None  # a name never books money by itself
MAX_CANDIDATES = 3

# Words that say what kind of party it is, not which one.
_NOISE = frozenset(
    {
        "SARL", "SAS", "SASU", "SA", "EURL", "SCI", "SNC", "SCP", "SELARL", "EI", "EIRL",
        "STE", "SOCIETE", "ETS", "ETABLISSEMENTS", "CIE", "ET", "DE", "DU", "DES", "LA", "LE",
        "LES", "M", "MR", "MME", "MLLE", "MONSIEUR", "MADAME", "MADEMOISELLE", "MRS", "MS",
    }
)  # fmt: skip


def normalised(name: str) -> str:
    """The name's words, without accents, punctuation, legal forms or civilities, sorted."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^A-Z0-9]+", " ", plain.upper()).split()
    return " ".join(sorted(w for w in words if w not in _NOISE))


def confidence(bank_name: str, debtor_name: str) -> int:
    """How alike the payer's name and the debtor's are, 0 to 100 (100: the same words)."""
    left, right = normalised(bank_name), normalised(debtor_name)
    if not left or not right:
        return 0
    return round(100 * SequenceMatcher(None, left, right).ratio())


@dataclass(frozen=True)
class OpenCase:
    """A case a credit could be for: what it still owes on the credit's date, and its debtor's
    name as intake keeps it."""

    case_id: str
    owed_minor: int
    debtor_name: str


@dataclass(frozen=True)
class Candidate:
    """A case proposed for a credit, with the name's confidence."""

    case_id: str
    confidence: int
    owed_minor: int


def candidates(
    bank_name: str | None, amount_minor: int, cases: Iterable[OpenCase]
) -> list[Candidate]:
    """The cases to propose for a credit paid by `bank_name`, best first (none without a name)."""
    if not bank_name or not normalised(bank_name):
        return []
    scored = [
        Candidate(case.case_id, confidence(bank_name, case.debtor_name), case.owed_minor)
        for case in cases
        if case.owed_minor >= amount_minor
    ]
    kept = sorted(
        (c for c in scored if c.confidence >= PROPOSE_AT),
        key=lambda c: (-c.confidence, c.case_id),
    )
    if len(kept) <= MAX_CANDIDATES:
        return kept
    cut = kept[MAX_CANDIDATES - 1].confidence
    return [c for c in kept if c.confidence >= cut]
