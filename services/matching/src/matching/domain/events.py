"""Facts matching records; the service layer turns them into protobuf events on the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from matching.domain.auction import Bid


@dataclass(frozen=True)
class AuctionOpened:
    """A bidding round opened among the eligible providers."""

    case_id: str
    round: int
    eligible_providers: int
    closes_at: datetime


@dataclass(frozen=True)
class CaseAwaitingProvider:
    """Nobody may take part in the case's next round: it waits, and no round is used up."""

    case_id: str
    next_round: int
    cause: str
    reason: str
    since: datetime


@dataclass(frozen=True)
class BidPlaced:
    """A provider bid, live or by an auto-bid rule."""

    case_id: str
    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    source: str
    fee_base: str = "collected"


@dataclass(frozen=True)
class AutoBidsPlaced:
    """The bids the providers' auto-bid rules placed the moment a round opened, together."""

    case_id: str
    round: int
    bids: tuple[Bid, ...]


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
    fee_base: str = "collected"


@dataclass(frozen=True)
class CaseOffered:
    """The quote was accepted (by the creditor, or for them below their auto-accept fee): the
    case is offered to the quoted provider, who must answer by accept_by."""

    case_id: str
    round: int
    provider_id: str
    offered_at: datetime
    accept_by: datetime
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
    fee_base: str = "collected"


@dataclass(frozen=True)
class WindowExtended:
    """The holder's window was extended (a promise to pay, a partial payment), up to the cap."""

    case_id: str
    round: int
    provider_id: str
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


@dataclass(frozen=True)
class CaseReopened:
    """A payment in full the bank reversed: the case is open again, back with its holder
    (provider and window) or on to the next round (no provider)."""

    case_id: str
    round: int
    provider_id: str = ""
    window_ends_at: datetime | None = None


@dataclass(frozen=True)
class ActionReported:
    """The holder reported what it did on the case."""

    case_id: str
    round: int
    provider_id: str
    action_id: str
    kind: str
    occurred_at: datetime
    note: str
    promised_amount_minor: int
    promised_on: date | None


@dataclass(frozen=True)
class PaymentAttributed:
    """A payment, credited to the provider that held the case the day it was paid (or nobody)."""

    case_id: str
    payment_id: str
    amount_minor: int
    paid_on: date
    source: str
    provider_id: str
    round: int
    fee_percent: Decimal | None
    fixed_fee_minor: int
    settles_in_full: bool
    fee_base: str = "collected"
    receipt_id: str = ""


@dataclass(frozen=True)
class PaymentUnattributed:
    """The bank took back the money behind a payment: it no longer counts for anyone."""

    case_id: str
    payment_id: str
    receipt_id: str
    amount_minor: int
    reversed_on: date
    provider_id: str
    round: int


@dataclass(frozen=True)
class ProviderOutcome:
    """What a provider's record gains from one step of a case; kept by matching, not published."""

    provider_id: str
    segment: str
    finished: int = 0
    recovered: int = 0
    amount_share: Decimal = Decimal(0)
    days_to_recover: int = 0
    offers: int = 0
    offers_in_time: int = 0


DomainEvent = (
    AuctionOpened
    | CaseAwaitingProvider
    | BidPlaced
    | AutoBidsPlaced
    | QuoteIssued
    | CaseOffered
    | CaseAssigned
    | WindowExtended
    | CaseRecalled
    | CaseRotated
    | CaseExhausted
    | CaseClosed
    | CaseReopened
    | ActionReported
    | PaymentAttributed
    | PaymentUnattributed
)
