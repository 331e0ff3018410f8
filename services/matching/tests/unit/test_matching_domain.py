"""Matching's domain rules: providers, eligibility, bids, award ranking, windows and rotation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from matching.domain import events
from matching.domain.auction import (
    AutoBidRule,
    Bid,
    Performance,
    Smoothing,
    amount_band,
    new_auto_bid_rule,
    new_bid,
    provider_probability,
    rank_offers,
)
from matching.domain.case_matching import CaseMatching
from matching.domain.errors import InvalidField, NotFound, StateConflict
from matching.domain.fees import FeeBounds, FeePercent
from matching.domain.providers import (
    CaseFile,
    CreditorPolicy,
    Provider,
    ineligibility,
    new_provider,
)
from matching.domain.rules import MatchingRules
from matching.domain.status import Status
from services.matching.tests.unit.fakes import ManualClock

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RULES = MatchingRules()
BOUNDS = FeeBounds()


def provider(provider_id: object = "p1", **overrides: object) -> Provider:
    fields: dict[str, object] = {
        "provider_id": provider_id,
        "name": f"Cabinet {provider_id}",
        "kind": "commissaire",
        "siren": "732 829 320",
        "regions": ["FR"],
        "serves_business": True,
        "serves_consumer": True,
        "min_amount_minor": 10_000,
        "max_amount_minor": 10_000_000,
        "judicial": True,
        "capacity": 5,
    }
    fields.update(overrides)
    return new_provider(**fields)  # type: ignore[arg-type]


def case(**overrides: object) -> CaseFile:
    fields: dict[str, object] = {
        "case_id": "case-1",
        "creditor_id": "creditor-1",
        "currency": "EUR",
        "amount_minor": 500_000,
        "debtor_is_business": True,
        "due_date": "2026-09-01",
        "region": "FR-IDF",
        "segment": "good-faith",
        "strategy": "amicable",
        "trustscore": 70,
        "recovery_probability": Decimal("0.60"),
    }
    fields.update(overrides)
    return CaseFile(**fields)  # type: ignore[arg-type]


def bid(provider_id: str, percent: str, fixed: int = 0, at: datetime = T0) -> Bid:
    return Bid(provider_id, Decimal(percent), fixed, at)


# --- providers -------------------------------------------------------------------------------


def test_a_valid_provider_is_normalised() -> None:
    p = provider(regions=["fr-idf", " FR-ARA "], siren="732829320")
    assert p.siren == "732829320"
    assert p.regions == {"FR-IDF", "FR-ARA"}
    assert p.serves_region("FR-IDF")
    assert not p.serves_region("FR-PAC")
    assert provider(regions=["FR"]).serves_region("FR-PAC")
    assert provider(regions=["FR-20R", "FR-971", "DE"]).serves_region("FR-20R")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"siren": "732829321"}, "siren"),
        ({"siren": "12345"}, "siren"),
        ({"kind": "bailiff"}, "kind"),
        ({"regions": []}, "regions"),
        ({"regions": ["Paris"]}, "regions"),
        ({"regions": ["XX"]}, "regions"),
        ({"regions": ["FR-COR"]}, "regions"),  # retired in 2019: Corsica is FR-20R
        ({"regions": ["FR-75C"]}, "regions"),  # a department; debtors are placed by region
        ({"serves_business": False, "serves_consumer": False}, "serves_business"),
        ({"min_amount_minor": 5000, "max_amount_minor": 5000}, "max_amount_minor"),
        ({"kind": "agency", "judicial": True}, "judicial"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_bad_provider_input_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as exc:
        provider(**overrides)
    assert exc.value.field == field


# --- eligibility -----------------------------------------------------------------------------

POLICY = CreditorPolicy("creditor-1")


@pytest.mark.parametrize(
    ("the_provider", "the_case", "held", "policy", "past", "reason"),
    [
        (provider(), case(), 0, POLICY, [], None),
        (provider(), case(), 0, POLICY, ["p1"], "provider already had this case"),
        (
            provider(),
            case(),
            0,
            CreditorPolicy("creditor-1", excluded_providers=frozenset({"p1"})),
            [],
            "excluded by the creditor",
        ),
        (provider(serves_business=False), case(), 0, POLICY, [], "does not take B2B cases"),
        (
            provider(serves_consumer=False),
            case(debtor_is_business=False),
            0,
            POLICY,
            [],
            "does not take consumer cases",
        ),
        (
            provider(max_amount_minor=100_000),
            case(),
            0,
            POLICY,
            [],
            "amount outside the provider's range",
        ),
        (provider(regions=["FR-ARA"]), case(), 0, POLICY, [], "does not serve the debtor's region"),
        (
            provider(kind="agency", judicial=False),
            case(strategy="injonction-de-payer"),
            0,
            POLICY,
            [],
            "case needs judicial capability",
        ),
        (provider(kind="lawyer"), case(strategy="injonction-de-payer"), 0, POLICY, [], None),
        (
            provider(kind="lawyer"),
            case(strategy="small-claims-procedure"),
            0,
            POLICY,
            [],
            "case needs a commissaire",
        ),
        (
            provider(kind="commissaire"),
            case(strategy="lawyer-for-disputed-claim"),
            0,
            POLICY,
            [],
            "case needs a lawyer",
        ),
        (provider(capacity=2), case(), 2, POLICY, [], "at capacity"),
        (provider(capacity=2), case(), 1, POLICY, [], None),
    ],
)
def test_eligibility(
    the_provider: Provider,
    the_case: CaseFile,
    held: int,
    policy: CreditorPolicy,
    past: list[str],
    reason: str | None,
) -> None:
    got = ineligibility(the_provider, the_case, cases_held=held, policy=policy, past_holders=past)
    assert got == reason


# --- bids and auto-bid rules -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("NaN", "must be a decimal number such as 12.5"),
        ("12.345", "at most two decimal places"),
        ("0.5", "must be between 1 and 50 percent"),
        ("50.01", "must be between 1 and 50 percent"),
    ],
)
def test_fee_percent_outside_platform_rules_is_refused(raw: str, rule: str) -> None:
    with pytest.raises(InvalidField) as exc:
        FeePercent.of(Decimal(raw), BOUNDS)
    assert exc.value.field == "fee"
    assert exc.value.rule == rule


def test_fee_percent_is_exact_and_required() -> None:
    assert FeePercent.of(Decimal("12.50"), BOUNDS).value == Decimal("12.5")
    with pytest.raises(InvalidField) as exc:
        FeePercent.of(None, BOUNDS)
    assert (exc.value.field, exc.value.rule) == ("fee", "is required")


def test_fixed_fee_must_be_below_the_amount() -> None:
    with pytest.raises(InvalidField) as exc:
        new_bid(
            provider_id="p1",
            fee_percent=Decimal(10),
            fixed_fee_minor=500_000,
            placed_at=T0,
            case=case(),
            bounds=BOUNDS,
        )
    assert exc.value.field == "fixed_fee.minor_units"


def test_auto_bid_rule_criteria() -> None:
    rule = new_auto_bid_rule(
        provider_id="p1",
        fee_percent=Decimal(9),
        fixed_fee_minor=0,
        segments=["good-faith"],
        min_trustscore=60,
        min_amount_minor=100_000,
        max_amount_minor=1_000_000,
        debtor_types=["business"],
        bounds=BOUNDS,
    )
    assert rule.matches(case())
    assert not rule.matches(case(segment="bad-faith"))
    assert not rule.matches(case(trustscore=59))
    assert not rule.matches(case(amount_minor=1_000_001))
    assert not rule.matches(case(debtor_is_business=False))
    assert AutoBidRule("p2", Decimal(10)).matches(case(segment="anything"))
    with pytest.raises(InvalidField) as exc:
        new_auto_bid_rule(
            provider_id="p1",
            fee_percent=Decimal(9),
            fixed_fee_minor=0,
            segments=[],
            min_trustscore=0,
            min_amount_minor=0,
            max_amount_minor=None,
            debtor_types=["robot"],
            bounds=BOUNDS,
        )
    assert exc.value.field == "debtor_types"


# --- award -----------------------------------------------------------------------------------

PLATFORM = Performance(finished=1000, recovered=500)
SMOOTH = Smoothing(prior_weight=Decimal(20))


def test_a_newcomer_is_judged_at_the_case_probability() -> None:
    p = provider_probability(case(), Performance(), PLATFORM, SMOOTH)
    assert p == Decimal("0.60")


def test_a_short_lucky_streak_is_shrunk_toward_the_platform_mean() -> None:
    lucky = provider_probability(case(), Performance(2, 2), PLATFORM, SMOOTH)
    proven = provider_probability(case(), Performance(100, 80), PLATFORM, SMOOTH)
    assert Decimal("0.60") < lucky < proven
    # Unsmoothed, 2 of 2 would double the probability and win against any record.
    assert lucky < Decimal("0.70")


def test_a_proven_poor_record_loses_to_a_newcomer_at_the_same_fee() -> None:
    ranking = rank_offers(
        case(),
        [bid("poor", "10"), bid("newcomer", "10")],
        policy=POLICY,
        performance={"poor": Performance(200, 40)},
        platform=PLATFORM,
        smoothing=SMOOTH,
    )
    assert [o.bid.provider_id for o in ranking] == ["newcomer", "poor"]


def test_a_better_recovery_rate_can_beat_a_lower_fee() -> None:
    ranking = rank_offers(
        case(),
        [bid("cheap", "8"), bid("strong", "15")],
        policy=POLICY,
        performance={"strong": Performance(300, 240), "cheap": Performance(300, 150)},
        platform=PLATFORM,
        smoothing=SMOOTH,
    )
    assert ranking[0].bid.provider_id == "strong"
    # 500,000 x p(strong) x 85% against 500,000 x 0.60 x 92%.
    assert ranking[0].expected_net_minor > ranking[1].expected_net_minor


def test_fixed_fee_counts_against_the_offer() -> None:
    ranking = rank_offers(
        case(),
        [bid("fixed", "10", fixed=5_000), bid("plain", "10")],
        policy=POLICY,
        performance={},
        platform=PLATFORM,
        smoothing=SMOOTH,
    )
    assert [o.bid.provider_id for o in ranking] == ["plain", "fixed"]
    assert ranking[1].fee_on_full_recovery_minor == 55_000


def test_ties_are_broken_by_time_then_id() -> None:
    later = T0 + timedelta(seconds=1)
    bids = [bid("b", "10", at=later), bid("c", "10"), bid("a", "10")]
    ranking = rank_offers(
        case(), bids, policy=POLICY, performance={}, platform=PLATFORM, smoothing=SMOOTH
    )
    assert [o.bid.provider_id for o in ranking] == ["a", "c", "b"]


def test_the_creditor_maximum_fee_is_honoured() -> None:
    policy = CreditorPolicy("creditor-1", max_fee_percent=Decimal("12"))
    ranking = rank_offers(
        case(),
        [bid("strong", "20"), bid("ok", "12")],
        policy=policy,
        performance={"strong": Performance(500, 450)},
        platform=PLATFORM,
        smoothing=SMOOTH,
    )
    assert [o.bid.provider_id for o in ranking] == ["ok"]


# --- assignment, windows, rotation -----------------------------------------------------------


def opened(eligible: list[str], **policy: object) -> CaseMatching:
    return CaseMatching.open(case(), CreditorPolicy("creditor-1", **policy), eligible, T0, RULES)  # type: ignore[arg-type]


def award_to(matching: CaseMatching, now: datetime, *bids: Bid) -> None:
    for b in bids:
        matching.place_bid(b, now)
    ranking = rank_offers(
        matching.case,
        matching.bids.values(),
        policy=POLICY,
        performance={},
        platform=PLATFORM,
        smoothing=SMOOTH,
    )
    matching.award(ranking, now, RULES)


def test_only_eligible_providers_bid_and_only_while_open() -> None:
    m = opened(["p1", "p2"])
    with pytest.raises(NotFound):
        m.place_bid(bid("stranger", "10"), T0)
    m.place_bid(bid("p1", "10"), T0)
    with pytest.raises(StateConflict):
        m.place_bid(bid("p1", "9"), T0)
    m.place_bid(bid("p1", "9"), T0, replace=True)
    assert m.bids["p1"].fee_percent == Decimal(9)
    m.withdraw_bid("p1", T0)
    assert m.bids == {}
    with pytest.raises(StateConflict):
        m.place_bid(bid("p2", "10"), T0 + RULES.bidding_period + timedelta(seconds=1))


def test_full_cycle_assign_expire_rotate_exhaust() -> None:
    clock = ManualClock(T0)
    m = opened(["p1", "p2", "p3", "p4"], window_days=30)
    assert [type(e) for e in m.take_events()] == [events.AuctionOpened]
    holders: list[str] = []
    for round_number in (1, 2, 3):
        assert m.round == round_number
        assert not set(holders) & set(m.eligible)
        fee = "10" if m.eligible[0] != "p4" else "11"
        award_to(m, clock.now(), *[bid(p, fee) for p in m.eligible])
        assert m.status is Status.QUOTED
        assert m.quote is not None
        winner = m.quote.provider_id
        m.accept_quote(clock.now(), RULES)
        m.provider_accepts(winner, clock.now())
        holders.append(winner)
        assert m.next_deadline() == clock.now() + timedelta(days=30)
        clock.advance(timedelta(days=30))
        assert m.due(clock.now())
        m.window_ended(clock.now(), RULES)
        if round_number < 3:
            assert m.status is Status.BETWEEN_ROUNDS
            m.open_next_round(["p1", "p2", "p3", "p4"], clock.now(), RULES)
    kinds = [type(e).__name__ for e in m.take_events()]
    assert kinds.count("CaseAssigned") == 3
    assert kinds.count("CaseRecalled") == 3
    assert kinds.count("CaseRotated") == 3
    assert kinds.count("AuctionOpened") == 2
    assert kinds[-1] == "CaseExhausted"
    assert m.status is Status.EXHAUSTED
    assert len(set(holders)) == 3


def test_extensions_are_capped() -> None:
    m = opened(["p1"], window_days=45)
    award_to(m, T0, bid("p1", "10"))
    m.accept_quote(T0, RULES)
    m.provider_accepts("p1", T0)
    assert m.extend_window("p1", T0, RULES) == T0 + timedelta(days=60)
    assert m.extend_window("p1", T0, RULES) == T0 + timedelta(days=75)
    with pytest.raises(StateConflict):
        m.extend_window("p1", T0, RULES)
    with pytest.raises(NotFound):
        m.extend_window("p2", T0, RULES)


def test_a_declining_or_silent_provider_passes_the_case_to_the_next_offer() -> None:
    m = opened(["p1", "p2", "p3"])
    award_to(m, T0, bid("p1", "8"), bid("p2", "9"), bid("p3", "10"))
    m.accept_quote(T0, RULES)
    with pytest.raises(NotFound):
        m.provider_accepts("p2", T0)
    m.provider_declines("p1", T0, RULES)
    assert m.status is Status.QUOTED
    assert m.quote is not None
    assert m.quote.provider_id == "p2"
    m.accept_quote(T0, RULES)
    m.accept_deadline_passed(T0 + RULES.provider_accept_period, RULES)
    assert m.quote is not None
    assert m.quote.provider_id == "p3"
    assert m.past_holders == []


def test_a_round_without_offers_moves_on() -> None:
    m = opened(["p1"])
    m.take_events()
    award_to(m, T0 + RULES.bidding_period)
    assert m.status is Status.BETWEEN_ROUNDS
    assert m.round == 1


def test_auto_accept_below_the_creditor_threshold() -> None:
    m = opened(["p1"], auto_accept_below_percent=Decimal("10"))
    award_to(m, T0, bid("p1", "9.5"))
    assert m.status is Status.OFFERED
    quote = [e for e in m.take_events() if isinstance(e, events.QuoteIssued)]
    assert quote[0].auto_accepted
    assert quote[0].cost_on_full_recovery_minor == 47_500


def test_release_recalls_and_rotates_at_once() -> None:
    m = opened(["p1", "p2"])
    award_to(m, T0, bid("p1", "10"))
    m.accept_quote(T0, RULES)
    m.provider_accepts("p1", T0)
    m.take_events()
    m.release("p1", T0 + timedelta(days=3), RULES)
    recalled = m.take_events()
    assert [type(e) for e in recalled] == [events.CaseRecalled, events.CaseRotated]
    m.open_next_round(["p1", "p2"], T0 + timedelta(days=3), RULES)
    assert m.eligible == ["p2"]


def test_manual_clock_never_goes_back() -> None:
    clock = ManualClock(T0)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(timedelta(seconds=-1))


@pytest.mark.parametrize(
    ("minor", "band"),
    [
        (99_999, "0-1000 EUR"),
        (100_000, "1000-5000 EUR"),
        (1_999_999, "5000-20000 EUR"),
        (10_000_000, "100000+ EUR"),
    ],
)
def test_open_auctions_show_an_amount_band_not_the_amount(minor: int, band: str) -> None:
    assert amount_band(minor, "EUR") == band


def test_insolvency_closes_the_case_and_ends_the_window() -> None:
    m = opened(["p1"])
    award_to(m, T0, bid("p1", "10"))
    m.accept_quote(T0, RULES)
    m.provider_accepts("p1", T0)
    m.take_events()
    m.debtor_insolvent(T0 + timedelta(days=1))
    assert m.status is Status.CLOSED
    assert m.next_deadline() is None
    assert [type(e) for e in m.take_events()] == [events.CaseClosed]
