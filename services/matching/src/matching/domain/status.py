"""Where a case stands in matching: the states its aggregate moves through."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """Where the case stands in matching."""

    BIDDING = "bidding"
    QUOTED = "quoted"  # waiting for the creditor
    OFFERED = "offered"  # the creditor accepted; waiting for the provider
    ASSIGNED = "assigned"
    DECLINED = "declined"  # the creditor declined the quote
    EXHAUSTED = "exhausted"
    CLOSED = "closed"
    # A round ended without a holder: the next opens, with fresh eligibility, before saving.
    BETWEEN_ROUNDS = "between-rounds"
    # Nobody may take part in the next round: it does not open (no round is used up) until one can.
    AWAITING_PROVIDER = "awaiting-provider"


HELD = (Status.OFFERED, Status.ASSIGNED)
