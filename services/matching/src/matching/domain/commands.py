"""What providers, creditors and operators ask matching to do, as the entrypoints hand it over."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from matching.domain.case_state import ConfirmedBy


@dataclass(frozen=True)
class PlaceBid:
    """Place (or replace) a provider's sealed bid on an open auction."""

    provider_id: str
    case_id: str
    fee_percent: Decimal | None
    fixed_fee_minor: int
    fixed_fee_currency: str
    replace: bool = False
    fee_base: str = ""  # "collected" | "principal"; empty: collected


@dataclass(frozen=True)
class WithdrawBid:
    """Take a bid back while the auction is open."""

    provider_id: str
    case_id: str


@dataclass(frozen=True)
class DeleteAutoBidRule:
    """Remove a provider's standing bid by its name."""

    provider_id: str
    name: str


@dataclass(frozen=True)
class SetAutoBidRule:
    """Store a provider's standing bid under a name."""

    provider_id: str
    name: str
    fee_percent: Decimal | None
    fixed_fee_minor: int = 0
    segments: tuple[str, ...] = ()
    min_trustscore: int = 0
    min_amount_minor: int = 0
    max_amount_minor: int | None = None
    debtor_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class AcceptAssignment:
    """The provider takes the case offered to it."""

    provider_id: str
    case_id: str


@dataclass(frozen=True)
class DeclineAssignment:
    """The provider turns the case offered to it down."""

    provider_id: str
    case_id: str


@dataclass(frozen=True)
class PromiseToPay:
    """The holder reports a promise to pay, in short."""

    provider_id: str
    case_id: str


@dataclass(frozen=True)
class ReleaseCase:
    """The holder gives the case back before its window ends."""

    provider_id: str
    case_id: str


@dataclass(frozen=True)
class ReportAction:
    """The holder reports what it did on the case."""

    provider_id: str
    case_id: str
    kind: str
    occurred_at: datetime | None
    note: str = ""
    promised_amount_minor: int = 0
    promised_currency: str = ""
    promised_on: str = ""


@dataclass(frozen=True)
class ReportPayment:
    """The provider reports a payment it collected."""

    provider_id: str
    case_id: str
    amount_minor: int
    currency: str
    paid_on: str
    settles_in_full: bool
    reference: str


@dataclass(frozen=True)
class ConfirmPayment:
    """A provider's payment claim is confirmed: by its creditor, or by settlement once the money
    is matched (creditor_id is then empty: settlement acts for the platform)."""

    case_id: str
    claim_id: str
    by: ConfirmedBy
    creditor_id: str = ""


@dataclass(frozen=True)
class DisputePayment:
    """The creditor disputes a provider's payment claim, saying why."""

    creditor_id: str
    case_id: str
    claim_id: str
    reason: str


@dataclass(frozen=True)
class AnswerQuote:
    """The creditor accepts or declines the quote on its case."""

    creditor_id: str
    case_id: str
    accept: bool


@dataclass(frozen=True)
class SetCreditorPolicy:
    """The creditor's maximum fee, auto-accept fee, window and exclusions; None: not given."""

    creditor_id: str
    max_fee_percent: Decimal | None = None
    auto_accept_below_percent: Decimal | None = None
    window_days: int = 0
    excluded_providers: tuple[str, ...] = ()
