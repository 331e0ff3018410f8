"""What providers report, whom each payment is credited to, and the record creditors see."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from matching.domain import events
from matching.domain.activity import ActionKind, new_action_report
from matching.domain.auction import Bid, Performance, Smoothing, rank_offers
from matching.domain.case_matching import CaseMatching
from matching.domain.case_state import ConfirmedBy
from matching.domain.errors import InvalidField, NotFound, StateConflict
from matching.domain.provider_records import ProviderRecord
from matching.domain.providers import CaseFile, CreditorPolicy
from matching.domain.rules import MatchingRules

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Paris
RULES = MatchingRules()
AMOUNT = 500_000
WINDOW = timedelta(days=45)


def new_case() -> CaseMatching:
    case = CaseFile(
        case_id="case-1",
        creditor_id="creditor-1",
        currency="EUR",
        amount_minor=AMOUNT,
        debtor_is_business=True,
        due_date="2026-09-01",
        segment="good-faith",
        recovery_probability=Decimal("0.6"),
    )
    return CaseMatching.open(case, CreditorPolicy("creditor-1"), ["p1", "p2", "p3"], T0, RULES)


def hold(m: CaseMatching, provider_id: str, percent: str, now: datetime) -> None:
    """Run the open round to the point where provider_id holds the case from `now`."""
    for p in m.eligible:
        fee = Decimal(percent) if p == provider_id else Decimal("49")
        m.place_bid(Bid(p, fee, 0, m.opened_at), m.opened_at)
    ranking = rank_offers(
        m.case,
        m.bids.values(),
        policy=CreditorPolicy("creditor-1"),
        performance={},
        platform=Performance(0, 0),
        smoothing=Smoothing(),
    )
    m.award(ranking, m.closes_at, RULES)
    m.accept_quote(now, RULES)
    m.provider_accepts(provider_id, now)


def rotate(m: CaseMatching, now: datetime) -> None:
    """Let the holder's window lapse and open the next round."""
    m.window_ended(now, RULES)
    m.open_next_round(["p1", "p2", "p3"], now, RULES)


def attributed(m: CaseMatching) -> list[events.PaymentAttributed]:
    return [e for e in m.take_events() if isinstance(e, events.PaymentAttributed)]


def declare(
    m: CaseMatching,
    payment_id: str,
    minor: int,
    paid_on: date,
    now: datetime,
    *,
    full: bool = False,
) -> None:
    m.record_payment(
        payment_id, minor, paid_on, source="creditor", settles_in_full=full, now=now, rules=RULES
    )


def record(m: CaseMatching, provider_id: str) -> ProviderRecord:
    """Fold the outcomes the aggregate produced into a record, as the repository does."""
    total = ProviderRecord("good-faith")
    for o in m.take_outcomes():
        if o.provider_id != provider_id:
            continue
        total = ProviderRecord(
            "good-faith",
            total.finished + o.finished,
            total.recovered + o.recovered,
            total.amount_share_sum + o.amount_share,
            total.days_to_recover_sum + o.days_to_recover,
            total.offers + o.offers,
            total.offers_in_time + o.offers_in_time,
        )
    return total


# --- attribution -----------------------------------------------------------------------------


def test_a_late_declared_payment_is_credited_to_the_provider_that_held_the_case_that_day() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    round_2 = T0 + WINDOW + timedelta(hours=1)
    rotate(m, round_2)
    hold(m, "p2", "15", round_2)
    m.take_events()

    # Declared while p2 holds the case, but paid during p1's window: p1's fee applies.
    declare(m, "pay-1", 100_000, date(2026, 12, 10), round_2 + timedelta(days=1))
    [first] = attributed(m)
    assert (first.provider_id, first.round, first.fee_percent) == ("p1", 1, Decimal("12"))

    declare(m, "pay-2", 50_000, date(2027, 1, 20), round_2 + timedelta(days=13))
    [second] = attributed(m)
    assert (second.provider_id, second.round, second.fee_percent) == ("p2", 2, Decimal("15"))


def test_a_payment_made_before_anyone_held_the_case_is_credited_to_nobody() -> None:
    m = new_case()
    hold(m, "p1", "12", T0 + timedelta(days=2))
    m.take_events()
    declare(m, "pay-1", 100_000, date(2026, 11, 23), T0 + timedelta(days=3))
    [payment] = attributed(m)
    assert (payment.provider_id, payment.round, payment.fee_percent) == ("", 0, None)


def test_on_a_handover_day_the_outgoing_holder_is_credited_unless_the_new_one_reports_it() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    handover = T0 + WINDOW + timedelta(hours=1)
    rotate(m, handover)
    hold(m, "p2", "15", handover)
    m.take_events()
    day = handover.date()

    declare(m, "pay-1", 10_000, day, handover + timedelta(hours=2))
    assert [p.provider_id for p in attributed(m)] == ["p1"]

    claim = m.claim_payment("p2", "R-1", 10_000, day, settles_in_full=False, now=handover)
    m.confirm_claim(claim.claim_id, handover, RULES, by=ConfirmedBy.CREDITOR)
    assert [p.provider_id for p in attributed(m)] == ["p2"]


def test_a_full_payment_in_an_earlier_window_closes_the_case_and_credits_that_provider() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    round_2 = T0 + WINDOW + timedelta(hours=1)
    rotate(m, round_2)
    hold(m, "p2", "15", round_2)
    m.take_events()
    m.take_outcomes()

    paid_on = (T0 + timedelta(days=30)).date()
    declare(m, "pay-1", AMOUNT, paid_on, round_2 + timedelta(days=2), full=True)
    outcomes = m.take_outcomes()
    assert m.status.value == "closed"
    # p1 recovered it (30 days into its window); p2 is neither credited nor blamed.
    assert [(o.provider_id, o.recovered, o.days_to_recover) for o in outcomes] == [("p1", 1, 30)]


# --- records ---------------------------------------------------------------------------------


def test_a_full_recovery_in_the_window_counts_as_finished_recovered_with_its_days() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    declare(m, "pay-1", 200_000, date(2026, 12, 3), T0 + timedelta(days=10))
    declare(m, "pay-2", 300_000, date(2026, 12, 13), T0 + timedelta(days=20))
    got = record(m, "p1")
    assert (got.finished, got.recovered, got.offers, got.offers_in_time) == (1, 1, 1, 1)
    assert (got.recovery_rate, got.amount_recovered_share, got.average_days_to_recover) == (
        "1.0000",
        "1.0000",
        "20.0",
    )


def test_a_lapsed_window_counts_the_share_recovered_and_a_missed_reply_counts_against() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    declare(m, "pay-1", 125_000, date(2026, 12, 1), T0 + timedelta(days=8))
    later = T0 + WINDOW + RULES.extension + timedelta(hours=1)
    rotate(m, later)
    p1 = record(m, "p1")
    assert (p1.finished, p1.recovered, p1.amount_recovered_share) == (1, 0, "0.2500")

    # p2 wins round 2 but never answers the offer.
    for p in m.eligible:
        m.place_bid(Bid(p, Decimal("10"), 0, later), later)
    ranking = rank_offers(
        m.case,
        m.bids.values(),
        policy=CreditorPolicy("creditor-1"),
        performance={},
        platform=Performance(0, 0),
        smoothing=Smoothing(),
    )
    m.award(ranking, later, RULES)
    m.accept_quote(later, RULES)
    assert m.holder is not None
    silent = m.holder
    m.accept_deadline_passed(later + RULES.provider_accept_period, RULES)
    answered = record(m, silent)
    assert (answered.offers, answered.offers_in_time, answered.finished) == (1, 0, 0)


def test_the_record_reads_empty_before_the_first_finished_case() -> None:
    empty = ProviderRecord("good-faith")
    assert (empty.recovery_rate, empty.amount_recovered_share, empty.average_days_to_recover) == (
        "",
        "",
        "",
    )


# --- provider payments -----------------------------------------------------------------------


def test_a_claim_is_checked_against_the_current_holders_window() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    with pytest.raises(NotFound):
        m.claim_payment("p3", "R", 1_000, T0.date(), settles_in_full=False, now=T0)
    with pytest.raises(InvalidField) as before:
        m.claim_payment("p1", "R", 1_000, date(2026, 11, 1), settles_in_full=False, now=T0)
    assert before.value.field == "paid_on"
    with pytest.raises(InvalidField) as too_much:
        m.claim_payment("p1", "R", AMOUNT + 1, T0.date(), settles_in_full=False, now=T0)
    assert too_much.value.field == "amount.minor_units"
    assert m.claims == []


def test_the_same_reference_is_the_same_claim_and_cannot_change() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    m.take_events()
    first = m.claim_payment("p1", "R-7", 40_000, T0.date(), settles_in_full=False, now=T0)
    again = m.claim_payment("p1", "R-7", 40_000, T0.date(), settles_in_full=False, now=T0)
    assert again == first
    assert len(m.claims) == 1
    with pytest.raises(InvalidField) as changed:
        m.claim_payment("p1", "R-7", 41_000, T0.date(), settles_in_full=False, now=T0)
    assert changed.value.field == "reference"
    # A claim is not a payment: nothing is recovered, nothing is published.
    assert (m.recovered_minor, m.payments, m.take_events()) == (0, [], [])


# --- actions ---------------------------------------------------------------------------------


def report(**overrides: object) -> object:
    fields: dict[str, object] = {
        "kind": "letter",
        "occurred_at": T0 + timedelta(days=1),
        "note": "Relance envoyée en recommandé",
        "promised_amount_minor": 0,
        "promised_currency": "",
        "promised_on": "",
        "case_currency": "EUR",
        "remaining_minor": AMOUNT,
        "window_started_at": T0,
        "now": T0 + timedelta(days=2),
    }
    fields.update(overrides)
    return new_action_report(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kind": "threat"}, "kind"),
        ({"occurred_at": T0 + timedelta(days=3)}, "occurred_at"),
        ({"occurred_at": T0 - timedelta(minutes=1)}, "occurred_at"),
        ({"note": "x" * 2001}, "note"),
        ({"note": "nul\x00"}, "note"),
        ({"promised_amount_minor": 1_000, "promised_currency": "EUR"}, "promised_amount"),
        (
            {"kind": "promise-to-pay", "promised_amount_minor": 1_000, "promised_currency": "USD"},
            "promised_amount.currency",
        ),
        (
            {
                "kind": "promise-to-pay",
                "promised_amount_minor": AMOUNT + 1,
                "promised_currency": "EUR",
            },
            "promised_amount.minor_units",
        ),
        ({"kind": "promise-to-pay", "promised_on": "2026-13-01"}, "promised_on"),
        ({"kind": "promise-to-pay", "promised_on": "2026-11-01"}, "promised_on"),
    ],
)
def test_a_bad_action_report_names_the_field(overrides: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidField) as refused:
        report(**overrides)
    assert refused.value.field == field


def test_a_promise_to_pay_is_recorded_and_extends_the_window_up_to_the_cap() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    m.take_events()
    assert m.assignment is not None
    assert m.assignment.window_ends_at == T0 + WINDOW
    promise = new_action_report(
        kind="promise-to-pay",
        occurred_at=None,
        note="Le débiteur paiera fin décembre",
        promised_amount_minor=AMOUNT,
        promised_currency="EUR",
        promised_on="2026-12-31",
        case_currency="EUR",
        remaining_minor=AMOUNT,
        window_started_at=T0,
        now=T0 + timedelta(days=1),
    )
    assert promise.kind is ActionKind.PROMISE_TO_PAY
    for n in range(3):
        m.report_action("p1", f"a{n}", promise, T0 + timedelta(days=1), RULES)
    reported = [e for e in m.take_events() if isinstance(e, events.ActionReported)]
    assert len(reported) == 3  # the third is recorded although the window is at its cap
    assert m.assignment.window_ends_at == T0 + WINDOW + RULES.max_extension
    with pytest.raises(NotFound):
        m.report_action("p2", "a9", promise, T0 + timedelta(days=1), RULES)


def test_the_short_promise_is_recorded_once_extends_once_and_is_refused_at_the_cap() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    m.take_events()
    m.promise_to_pay("p1", "a1", T0 + timedelta(days=1), RULES)
    assert m.assignment is not None
    assert m.assignment.window_ends_at == T0 + WINDOW + RULES.extension
    [extended, promise] = m.take_events()
    assert extended == events.WindowExtended(m.case.case_id, 1, "p1", T0 + WINDOW + RULES.extension)
    assert isinstance(promise, events.ActionReported)
    assert (promise.kind, promise.provider_id) == ("promise-to-pay", "p1")
    m.promise_to_pay("p1", "a2", T0 + timedelta(days=2), RULES)
    with pytest.raises(StateConflict):
        m.promise_to_pay("p1", "a3", T0 + timedelta(days=3), RULES)


def test_a_late_full_payment_credits_a_holding_ended_by_withdrawal_and_keeps_its_end() -> None:
    m = new_case()
    hold(m, "p1", "12", T0)
    withdrawn_at = T0 + timedelta(days=10)
    m.withdraw(withdrawn_at)
    m.take_outcomes()
    assert m.holdings[0].ended_at == withdrawn_at

    # Declared a month later, paid the day before the withdrawal: p1 recovered it.
    declare(m, "pay-1", AMOUNT, date(2026, 12, 2), T0 + timedelta(days=40), full=True)
    [outcome] = m.take_outcomes()
    assert (outcome.provider_id, outcome.finished, outcome.recovered) == ("p1", 1, 1)
    assert m.holdings[0].ended_at == withdrawn_at
    # A payment after the withdrawal is nobody's.
    declare(m, "pay-2", 1_000, date(2027, 1, 5), T0 + timedelta(days=45))
    assert m.payments[-1].provider_id == ""
