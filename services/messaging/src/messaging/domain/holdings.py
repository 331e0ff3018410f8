"""Who holds a case now, as matching's facts say (assigned, then rotated, recalled or closed).

The holder's rights in messaging (its thread, recording the debtor's disputes, promises and plan
proposals) last exactly as long as its holding.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Holding:
    """The provider holding the case in a round."""

    case_id: str
    holder_id: str
    round: int
