"""One case's path through matching: the aggregate every change to a case goes through.

It is built in parts, each on the one before and each in a module named for it: `case_state`
(what is stored), `provider_records` (outcomes), `rounds` (bids, award, quote), `holdings`
(offer, window, recall), `payments` (credited to the holder of the day), `payment_claims`
(what holders report, counted once confirmed), `bank_receipts` (money settlement saw arrive,
counted once however it is told); this module adds the
case's life as a whole: opening, deadlines, withdrawal and insolvency.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from matching.domain import events
from matching.domain.availability import NobodyEligible
from matching.domain.bank_receipts import BankReceipts
from matching.domain.providers import CaseFile, CreditorPolicy
from matching.domain.rules import MatchingRules
from matching.domain.status import HELD, Status


@dataclass
class CaseMatching(BankReceipts):
    """The aggregate: every change to a case's matching goes through its methods."""

    @classmethod
    def open(
        cls,
        case: CaseFile,
        policy: CreditorPolicy,
        eligible: Iterable[str],
        now: datetime,
        rules: MatchingRules,
        *,
        why_none: NobodyEligible | None = None,
    ) -> CaseMatching:
        """Open the first auction round of a freshly scored case (or wait for a provider)."""
        matching = cls(
            case=case,
            window_days=policy.window_days,
            auto_accept_below_percent=policy.auto_accept_below_percent,
            status=Status.BIDDING,
            round=0,
            opened_at=now,
            closes_at=now,
            eligible=[],
        )
        matching._open_round(eligible, now, rules, why_none)
        return matching

    @property
    def holder(self) -> str | None:
        """The provider holding (or being offered) the case right now."""
        if self.status in HELD and self.assignment is not None:
            return self.assignment.provider_id
        return None

    def next_deadline(self) -> datetime | None:
        """When this case next needs the scheduler's attention."""
        if self.status is Status.BIDDING:
            return self.closes_at
        if self.status is Status.OFFERED and self.assignment is not None:
            return self.assignment.accept_by
        if self.status is Status.ASSIGNED and self.assignment is not None:
            return self.assignment.window_ends_at
        if self.status is Status.AWAITING_PROVIDER and self.awaiting is not None:
            return self.awaiting.recheck_at
        return None

    def due(self, now: datetime) -> bool:
        """True when a deadline of this case has passed."""
        deadline = self.next_deadline()
        return deadline is not None and deadline <= now

    def withdraw(self, now: datetime) -> None:
        """The creditor withdrew the case: matching stops."""
        self._close("withdrawn by the creditor", now)
        self.closed_by = "withdrawn by the creditor"  # even when a payment had closed it first

    def debtor_insolvent(self, now: datetime) -> None:
        """Insolvency proceedings opened: the claim is declared to the court, nobody chases it."""
        self._close("debtor in insolvency proceedings", now)
        self.closed_by = "debtor in insolvency proceedings"

    def take_events(self) -> list[events.DomainEvent]:
        """The facts recorded since the last call, oldest first."""
        taken, self.pending = self.pending, []
        return taken

    def take_released(self) -> list[str]:
        """The providers that stopped holding (or being offered) the case since the last call."""
        taken, self.released = self.released, []
        return taken
