"""What a bid's success fee is a share of, as the bid states it and every later step carries it.

"collected": everything the debtor pays (recovery indemnity, interest and principal);
"principal": the part of each payment allocated to principal only. A bid that says nothing is on
"collected", the base every fee had before bids could state one.
"""

from __future__ import annotations

from matching.domain.errors import InvalidField

COLLECTED = "collected"
PRINCIPAL = "principal"
FEE_BASES = (COLLECTED, PRINCIPAL)


def fee_base_of(text: str, field: str = "fee_base") -> str:
    """The base a request names; empty means "collected", anything else is refused."""
    base = text.strip().lower() or COLLECTED
    if base not in FEE_BASES:
        raise InvalidField(field, "collected or principal")
    return base
