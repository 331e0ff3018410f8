"""Facts matching records; the service layer turns them into protobuf events on the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True)
class AuctionOpened:
    """A bidding round opened among the eligible providers."""

    case_id: str
    round: int
    eligible_providers: int
    closes_at: datetime


@dataclass(frozen=True)
class BidPlaced:
    """A provider bid, live or by an auto-bid rule."""

    case_id: str
    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    source: str


@dataclass(frozen=True)
class QuoteIssued:
    """The best offer of a round was put to the creditor."""

    case_id: str
    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    cost_on_full_recovery_minor: int
    expected_net_minor: int
    why: str
    auto_accepted: bool


@dataclass(frozen=True)
class CaseAssigned:
    """A provider accepted the case; its exclusive window started."""

    case_id: str
    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    window_started_at: datetime
    window_ends_at: datetime


@dataclass(frozen=True)
class CaseRecalled:
    """The holder lost the case: window over or released."""

    case_id: str
    round: int
    provider_id: str
    reason: str


@dataclass(frozen=True)
class CaseRotated:
    """The round ended without full recovery; the case moves on."""

    case_id: str
    round: int
    from_provider_id: str


@dataclass(frozen=True)
class CaseExhausted:
    """Every round passed without full recovery."""

    case_id: str
    rounds: int
    reason: str
    remaining_minor: int


@dataclass(frozen=True)
class CaseClosed:
    """Matching is over for the case: paid, withdrawn or insolvent."""

    case_id: str
    reason: str


DomainEvent = (
    AuctionOpened
    | BidPlaced
    | QuoteIssued
    | CaseAssigned
    | CaseRecalled
    | CaseRotated
    | CaseExhausted
    | CaseClosed
)
