"""Orders settlement's use cases carry out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from settlement.domain.ledger import Journal, Line


@dataclass(frozen=True)
class PostEntry:
    """Book what a fact moved: the same fact posted again books nothing more."""

    fact_key: str
    booked_on: date
    journal: Journal
    description: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class ReverseEntry:
    """Cancel a posted entry by booking its mirror, caused by `fact_key`."""

    entry_id: str
    fact_key: str
    booked_on: date
    description: str
