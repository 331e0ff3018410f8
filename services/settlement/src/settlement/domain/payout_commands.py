"""Orders operators give about payees and payout batches; `operator` is the verified caller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SetPayeeAccount:
    """Enter new bank details for a party: its payouts wait until another operator confirms."""

    operator: str
    party_kind: str
    party_id: str
    holder: str
    iban: str
    bic: str | None = None
    mandate_id: str | None = None
    mandate_signed_on: date | None = None


@dataclass(frozen=True)
class ConfirmPayeeAccount:
    """Vouch for a party's latest bank details, as an operator other than who entered them."""

    operator: str
    party_kind: str
    party_id: str


@dataclass(frozen=True)
class ProposePayoutBatch:
    """Gather what is payable on `value_date` (the requested execution date) into a batch."""

    operator: str
    value_date: date


@dataclass(frozen=True)
class ApprovePayoutBatch:
    """One operator's approval of a proposed batch."""

    operator: str
    batch_id: str


@dataclass(frozen=True)
class ReleasePayoutBatch:
    """Book an approved batch and build its bank files."""

    operator: str
    batch_id: str


@dataclass(frozen=True)
class CancelPayoutBatch:
    """Drop a batch not yet released, so that its parties can be proposed again."""

    operator: str
    batch_id: str
