"""What each provider did on one creditor's cases, from the holdings matching keeps: the
figures a creditor's dashboard shows per provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from matching.domain.case_state import Holding
from matching.domain.provider_records import results_by_provider

T0 = datetime(2026, 9, 1, 9, tzinfo=UTC)


def holding(
    provider: str, days: int | None, recovered_minor: int, full: bool, round_: int = 1
) -> Holding:
    return Holding(
        round=round_,
        provider_id=provider,
        fee_percent=Decimal(10),
        fixed_fee_minor=0,
        started_at=T0,
        ended_at=None if days is None else T0 + timedelta(days=days),
        recovered_minor=recovered_minor,
        recovered_in_full=full,
    )


def test_results_count_finished_and_recovered_holdings_and_their_money_per_provider() -> None:
    results = results_by_provider(
        [
            holding("p2", 20, 100_000, True),
            holding("p1", 45, 30_000, False),  # recalled after a part payment
            holding("p2", 40, 50_000, True),
            holding("p1", None, 5_000, False),  # still held: its money counts, not as finished
            holding("p2", 45, 0, False, round_=2),
        ]
    )
    assert [r.provider_id for r in results] == ["p1", "p2"]
    p1, p2 = results
    assert (p1.finished, p1.recovered, p1.recovered_minor) == (1, 0, 35_000)
    assert (p1.recovery_rate, p1.average_days_to_recover) == ("0.0000", "")
    assert (p2.finished, p2.recovered, p2.recovered_minor) == (3, 2, 150_000)
    assert (p2.recovery_rate, p2.average_days_to_recover) == ("0.6667", "30.0")


def test_no_holding_no_result() -> None:
    assert results_by_provider([]) == []
