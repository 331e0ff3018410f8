"""What matching remembers of one case, and the records it keeps of its rounds and holders.

The behaviour lives in the parts built on this state, each in a module named for it:
provider records, rounds, holdings, payments; `CaseMatching` is the whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from matching.domain import events
from matching.domain.activity import business_day
from matching.domain.auction import Bid, Offer
from matching.domain.availability import WaitCause
from matching.domain.fee_base import COLLECTED
from matching.domain.providers import CaseFile
from matching.domain.status import Status


@dataclass
class Quote:
    """The offer put to the creditor: who, what fee, the cost on full recovery, and why."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    cost_on_full_recovery_minor: int
    expected_net_minor: int
    why: str
    issued_at: datetime
    recovery_probability: Decimal = Decimal(0)
    cases_finished: int = 0
    cases_recovered: int = 0
    fee_base: str = COLLECTED


@dataclass
class Assignment:
    """A provider's exclusive hold on the case for one round."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    offered_at: datetime
    accept_by: datetime
    started_at: datetime | None = None
    window_ends_at: datetime | None = None
    extended_by: timedelta = timedelta(0)
    fee_base: str = COLLECTED


@dataclass
class Holding:
    """One provider's time with the case: what it recovered then is credited to it."""

    round: int
    provider_id: str
    fee_percent: Decimal
    fixed_fee_minor: int
    started_at: datetime
    ended_at: datetime | None = None
    recovered_minor: int = 0
    recovered_in_full: bool = False
    # True once the holding ended in a way that counts in the provider's record.
    counted: bool = False
    fee_base: str = COLLECTED

    def covers(self, day: date) -> bool:
        """True when the provider held the case on that calendar day."""
        if day < business_day(self.started_at):
            return False
        return self.ended_at is None or day <= business_day(self.ended_at)


@dataclass(frozen=True)
class Awaiting:
    """A case waiting for a provider before its next round: since when, and why."""

    since: datetime
    cause: WaitCause
    reason: str
    recheck_at: datetime


@dataclass(frozen=True)
class Payment:
    """A payment on the case and the holder it is attributed to ("" when nobody held it)."""

    payment_id: str
    amount_minor: int
    paid_on: date
    source: str  # "creditor" | "provider" | "bank"
    settles_in_full: bool
    provider_id: str = ""
    round: int = 0
    # Settlement's receipt of this money, once it reached the client-money account.
    receipt_id: str = ""
    # The creditor's declarations and holders' claims this bank payment turned out to be.
    told_by: tuple[str, ...] = ()


class ClaimState(StrEnum):
    """Where a provider's reported payment stands: only a confirmed one counts anywhere."""

    CLAIMED = "claimed"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class ConfirmedBy(StrEnum):
    """Who may turn a claim into a payment: the creditor's word, or money seen by settlement."""

    CREDITOR = "creditor"
    SETTLEMENT = "settlement"


@dataclass
class PaymentClaim:
    """A payment the holder says the debtor made to it: a claim until confirmed."""

    claim_id: str
    reference: str
    provider_id: str
    round: int
    amount_minor: int
    paid_on: date
    settles_in_full: bool
    claimed_at: datetime
    state: ClaimState = ClaimState.CLAIMED
    decided_at: datetime | None = None
    decided_by: str = ""
    dispute_reason: str = ""

    def repeats(self, provider_id: str, amount_minor: int, paid_on: date, full: bool) -> bool:
        """True when a report is this claim again (a retry), not a different payment."""
        return (self.provider_id, self.amount_minor, self.paid_on, self.settles_in_full) == (
            provider_id,
            amount_minor,
            paid_on,
            full,
        )


@dataclass
class CaseState:
    """A case's matching as stored: the round, bids, quote, holder, holdings and payments."""

    case: CaseFile
    window_days: int
    auto_accept_below_percent: Decimal | None
    status: Status
    round: int
    opened_at: datetime
    closes_at: datetime
    eligible: list[str]
    bids: dict[str, Bid] = field(default_factory=dict)
    ranking: list[Offer] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    past_holders: list[str] = field(default_factory=list)
    quote: Quote | None = None
    assignment: Assignment | None = None
    recovered_minor: int = 0
    holdings: list[Holding] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    claims: list[PaymentClaim] = field(default_factory=list)
    # Receipts the bank reversed before matching heard of them: they never count.
    reversed_receipts: list[str] = field(default_factory=list)
    pending: list[events.DomainEvent] = field(default_factory=list)
    outcomes: list[events.ProviderOutcome] = field(default_factory=list)
    awaiting: Awaiting | None = None
    # Why matching stopped for the case ("paid in full", "withdrawn by the creditor"...): a case
    # a payment in full closed reopens when the bank reverses that payment.
    closed_by: str = ""
    # Providers whose offer or hold on the case ended in this change (a slot freed; not stored).
    released: list[str] = field(default_factory=list)
