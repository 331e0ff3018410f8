"""What each provider's cases teach about it: outcomes counted as holdings end or pay off,
summed per segment into the record creditors see before accepting a quote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from matching.domain import events
from matching.domain.activity import business_day
from matching.domain.case_state import CaseState, Holding


def _ratio(numerator: Decimal, denominator: int, places: str) -> str:
    if denominator == 0:
        return ""
    return str((numerator / denominator).quantize(Decimal(places), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class ProviderRecord:
    """A provider's measured outcomes in one segment, as creditors see them before accepting."""

    segment: str
    finished: int = 0
    recovered: int = 0
    amount_share_sum: Decimal = Decimal(0)
    days_to_recover_sum: int = 0
    offers: int = 0
    offers_in_time: int = 0

    @property
    def recovery_rate(self) -> str:
        """Cases paid in full over cases finished, or "" before the first finished case."""
        return _ratio(Decimal(self.recovered), self.finished, "0.0001")

    @property
    def amount_recovered_share(self) -> str:
        """The mean share of the amount owed that it recovered while holding a case."""
        return _ratio(self.amount_share_sum, self.finished, "0.0001")

    @property
    def average_days_to_recover(self) -> str:
        """Mean days from the window's start to full payment, over the cases it recovered."""
        return _ratio(Decimal(self.days_to_recover_sum), self.recovered, "0.1")


class ProviderOutcomes(CaseState):
    """The aggregate's first part: the outcomes the later parts (rounds, holdings, payments)
    count for each provider, folded into its record by segment."""

    def _share(self, recovered_minor: int) -> Decimal:
        return Decimal(min(recovered_minor, self.case.amount_minor)) / self.case.amount_minor

    def _end_holding(
        self,
        holding: Holding,
        now: datetime,
        *,
        recovered: bool,
        paid_on: date | None = None,
    ) -> None:
        """The holding is over and counts in the provider's record.

        A holding that ended uncounted (the case closed for another reason) keeps its end when a
        late-declared payment made within it turns out to have paid the case in full.
        """
        if holding.ended_at is None:
            holding.ended_at = now
        holding.counted = True
        days = 0
        if recovered and paid_on is not None:
            days = max(0, (paid_on - business_day(holding.started_at)).days)
        self._outcome(
            holding.provider_id,
            finished=1,
            recovered=int(recovered),
            amount_share=self._share(holding.recovered_minor),
            days_to_recover=days,
        )

    def _outcome(
        self,
        provider_id: str,
        *,
        finished: int = 0,
        recovered: int = 0,
        amount_share: Decimal = Decimal(0),
        days_to_recover: int = 0,
        offers: int = 0,
        offers_in_time: int = 0,
    ) -> None:
        self.outcomes.append(
            events.ProviderOutcome(
                provider_id,
                self.case.segment,
                finished,
                recovered,
                amount_share,
                days_to_recover,
                offers,
                offers_in_time,
            )
        )

    def take_outcomes(self) -> list[events.ProviderOutcome]:
        """What the providers' records gained since the last call."""
        taken, self.outcomes = self.outcomes, []
        return taken


@dataclass(frozen=True)
class ProviderResult:
    """What one provider did on one creditor's cases: the holdings that ended, those it
    recovered in full, the money it recovered and the days it took."""

    provider_id: str
    finished: int = 0
    recovered: int = 0
    recovered_minor: int = 0
    days_to_recover_sum: int = 0

    @property
    def recovery_rate(self) -> str:
        """Holdings recovered in full over holdings finished, or "" before the first."""
        return _ratio(Decimal(self.recovered), self.finished, "0.0001")

    @property
    def average_days_to_recover(self) -> str:
        """Mean days from the window's start to full payment, over those recovered in full."""
        return _ratio(Decimal(self.days_to_recover_sum), self.recovered, "0.1")


def results_by_provider(holdings: list[Holding]) -> list[ProviderResult]:
    """Per provider, from the holdings of one creditor's cases (those still running count
    their money, not yet as finished); by provider id."""
    results: dict[str, ProviderResult] = {}
    for holding in holdings:
        current = results.get(holding.provider_id, ProviderResult(holding.provider_id))
        ended = holding.ended_at is not None
        full = ended and holding.recovered_in_full
        days = (holding.ended_at - holding.started_at).days if full and holding.ended_at else 0
        results[holding.provider_id] = ProviderResult(
            holding.provider_id,
            finished=current.finished + int(ended),
            recovered=current.recovered + int(full),
            recovered_minor=current.recovered_minor + holding.recovered_minor,
            days_to_recover_sum=current.days_to_recover_sum + max(0, days),
        )
    return [results[p] for p in sorted(results)]
