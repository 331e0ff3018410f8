"""French legal amounts on worked examples, each checked by hand from the ECB rates.

ECB main refinancing rates used (ECB "Key ECB interest rates" page): 4.50% in force on
2024-01-01 (since 2023-09-20), 4.25% on 2024-07-01 (since 2024-06-12), 0.00% on 2016-07-01
(since 2016-03-16).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recouvra_shared.legal.amounts import Claim, Payment, compute
from recouvra_shared.legal.ecb_rates import parse_rate_table, shipped_rates
from recouvra_shared.legal.prescription import days_past_due, prescribed_after


def one_invoice(principal_minor: int = 100_000, due: date = date(2024, 3, 31)) -> list[Claim]:
    return [Claim(invoice_number="F-001", due_date=due, principal_minor=principal_minor)]


def test_rate_in_force_follows_each_ecb_decision() -> None:
    rates = shipped_rates()
    assert rates.rate_on(date(2024, 1, 1)) == Decimal("4.50")
    assert rates.rate_on(date(2024, 6, 11)) == Decimal("4.50")
    assert rates.rate_on(date(2024, 7, 1)) == Decimal("4.25")
    assert rates.rate_on(date(2025, 1, 1)) == Decimal("3.15")
    assert rates.rate_on(date(2025, 7, 1)) == Decimal("2.15")
    assert rates.rate_on(date(2016, 7, 1)) == Decimal("0.00")
    assert "European Central Bank" in rates.source


def test_b2b_interest_over_two_half_years_and_indemnity() -> None:
    # 1,000.00 EUR due 2024-03-31, on 2024-09-30:
    #   H1 2024: 4.50 + 10 = 14.50%, 1 Apr..30 Jun = 91 days: 100000 x 0.145 x 91/365 = 3615.07
    #   H2 2024: 4.25 + 10 = 14.25%, 1 Jul..30 Sep = 92 days: 100000 x 0.1425 x 92/365 = 3591.78
    amounts = compute(one_invoice(), "EUR", debtor_is_company=True, as_of=date(2024, 9, 30))
    interest = [line for line in amounts.lines if line.kind == "interest"]
    assert [(i.period_start, i.period_end, i.days) for i in interest] == [
        (date(2024, 4, 1), date(2024, 6, 30), 91),
        (date(2024, 7, 1), date(2024, 9, 30), 92),
    ]
    assert [i.rate_percent for i in interest] == [Decimal("14.50"), Decimal("14.25")]
    assert [i.amount_minor for i in interest] == [3615, 3592]
    assert amounts.interest_minor == 7207
    assert amounts.indemnity_minor == 4000
    assert amounts.principal_minor == 100_000
    assert amounts.total_minor == 111_207
    assert sum(line.amount_minor for line in amounts.lines) == amounts.total_minor
    assert amounts.standings[0].days_past_due == 183
    assert "1000.00 EUR x 14.50% x 91/365 = 36.15 EUR" in interest[0].explanation
    assert "ECB rate 4.50% in force on 2024-01-01 + 10 points" in interest[0].explanation


def test_zero_ecb_rate_still_gives_ten_points() -> None:
    # H2 2016: 0.00 + 10 = 10%, 1 Jul..31 Dec = 184 days: 100000 x 0.10 x 184/365 = 5041.10
    amounts = compute(
        one_invoice(due=date(2016, 6, 30)), "EUR", debtor_is_company=True, as_of=date(2016, 12, 31)
    )
    assert amounts.interest_minor == 5041


def test_consumer_owes_principal_only_and_is_told_why() -> None:
    amounts = compute(one_invoice(), "EUR", debtor_is_company=False, as_of=date(2024, 9, 30))
    assert (amounts.interest_minor, amounts.indemnity_minor) == (0, 0)
    assert amounts.total_minor == 100_000
    assert any("consumer" in line.explanation for line in amounts.lines)


def test_partial_payment_goes_to_indemnity_then_interest_then_principal() -> None:
    # 1,000.00 EUR due 2023-12-31; 500.00 paid 2024-01-31.
    #   interest 1..31 Jan 2024 at 14.50%: 100000 x 0.145 x 31/365 = 1231.51 -> 12.32
    #   payment: 40.00 indemnity, 12.32 interest, 447.68 principal -> 552.32 left
    #   interest 1 Feb..31 Mar 2024 (60 days, leap year): 55232 x 0.145 x 60/365 = 1316.49 -> 13.16
    amounts = compute(
        one_invoice(due=date(2023, 12, 31)),
        "EUR",
        debtor_is_company=True,
        as_of=date(2024, 3, 31),
        payments=[Payment(paid_on=date(2024, 1, 31), amount_minor=50_000)],
    )
    allocations = [line.amount_minor for line in amounts.lines if line.kind == "allocation"]
    assert allocations == [-4000, -1232, -44768]
    assert amounts.principal_minor == 55_232
    assert amounts.interest_minor == 1316
    assert amounts.indemnity_minor == 0
    assert amounts.paid_minor == 50_000
    assert amounts.total_minor == 56_548
    assert sum(line.amount_minor for line in amounts.lines) == amounts.total_minor


def test_payments_go_to_the_oldest_invoice_first() -> None:
    claims = [
        Claim("NEW", date(2024, 2, 29), 30_000),
        Claim("OLD", date(2024, 1, 31), 20_000),
    ]
    amounts = compute(
        claims,
        "EUR",
        debtor_is_company=False,
        as_of=date(2024, 6, 1),
        payments=[Payment(paid_on=date(2024, 5, 1), amount_minor=25_000)],
    )
    allocations = [(line.invoice_number, line.amount_minor) for line in amounts.lines]
    assert ("OLD", -20_000) in allocations
    assert ("NEW", -5_000) in allocations
    assert amounts.principal_minor == 25_000


def test_full_settlement_leaves_nothing_owed_and_stops_interest() -> None:
    amounts = compute(
        one_invoice(),
        "EUR",
        debtor_is_company=True,
        as_of=date(2025, 1, 1),
        payments=[Payment(paid_on=date(2024, 4, 30), amount_minor=90_000, settles_in_full=True)],
    )
    assert amounts.total_minor == 0
    assert not [
        line
        for line in amounts.lines
        if line.kind == "interest" and line.period_end and line.period_end > date(2024, 4, 30)
    ]
    assert any(line.kind == "settlement" for line in amounts.lines)


def test_no_interest_before_the_due_date() -> None:
    amounts = compute(one_invoice(), "EUR", debtor_is_company=True, as_of=date(2024, 3, 31))
    assert amounts.total_minor == 100_000
    assert amounts.standings[0].days_past_due == 0


def test_indemnity_is_for_eur_invoices_only() -> None:
    amounts = compute(one_invoice(), "CHF", debtor_is_company=True, as_of=date(2024, 4, 30))
    assert amounts.indemnity_minor == 0
    # 30 days at 14.50%: 100000 x 0.145 x 30/365 = 1191.78
    assert amounts.interest_minor == 1192


def test_rates_after_the_verified_date_are_flagged() -> None:
    rates = parse_rate_table(
        ["# verified_through: 2024-03-01", "effective_date,rate_percent", "2023-09-20,4.50"], "t"
    )
    amounts = compute(
        one_invoice(), "EUR", debtor_is_company=True, as_of=date(2024, 8, 1), rates=rates
    )
    second_half = [line for line in amounts.lines if line.kind == "interest"][1]
    assert "verified through 2024-03-01" in second_half.explanation


def test_prescription_dates() -> None:
    assert prescribed_after(date(2021, 3, 15), debtor_is_company=True) == date(2026, 3, 15)
    assert prescribed_after(date(2024, 11, 22), debtor_is_company=False) == date(2026, 11, 22)
    assert prescribed_after(date(2024, 2, 29), debtor_is_company=False) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("due", "as_of", "days"),
    [(date(2024, 1, 31), date(2024, 3, 1), 30), (date(2024, 3, 1), date(2024, 1, 31), 0)],
)
def test_days_past_due(due: date, as_of: date, days: int) -> None:
    assert days_past_due(due, as_of) == days


@given(
    principals=st.lists(st.integers(min_value=1, max_value=10**8), min_size=1, max_size=4),
    due_offsets=st.lists(st.integers(min_value=0, max_value=900), min_size=4, max_size=4),
    payments=st.lists(
        st.tuples(st.integers(min_value=0, max_value=1200), st.integers(1, 10**8), st.booleans()),
        max_size=4,
    ),
    company=st.booleans(),
    horizon=st.integers(min_value=0, max_value=1500),
)
def test_the_lines_always_add_up_and_nothing_goes_negative(
    principals: list[int],
    due_offsets: list[int],
    payments: list[tuple[int, int, bool]],
    company: bool,
    horizon: int,
) -> None:
    start = date(2022, 1, 1)
    claims = [
        Claim(f"F-{i}", start + timedelta(days=due_offsets[i]), p) for i, p in enumerate(principals)
    ]
    paid = [Payment(start + timedelta(days=d), amount, full) for d, amount, full in payments]
    as_of = start + timedelta(days=horizon)
    amounts = compute(claims, "EUR", debtor_is_company=company, as_of=as_of, payments=paid)
    assert sum(line.amount_minor for line in amounts.lines) == amounts.total_minor
    assert min(amounts.principal_minor, amounts.interest_minor, amounts.indemnity_minor) >= 0
    assert amounts.principal_minor <= sum(principals)
    if not company:
        assert amounts.interest_minor == amounts.indemnity_minor == 0
    if any(p.settles_in_full and p.paid_on <= as_of for p in paid):
        assert amounts.total_minor == 0
