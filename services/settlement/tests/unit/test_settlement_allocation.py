"""Allocation by Code civil 1343-1, with the legal computation intake uses: worked examples.

The case (money_in_world.two_invoice_case): a company owes invoice 1, 1,000.00 EUR due
31 January 2026, and invoice 2, 500.00 EUR due 14 February 2026. Interest runs at the ECB rate
in force on 1 January 2026 (2.15 %) + 10 points = 12.15 % a year, simple, actual days / 365,
from the day after each due date; each late invoice also owes a fixed 40.00 EUR indemnity.
"""

from __future__ import annotations

from datetime import date

from services.settlement.tests.unit.money_in_world import RATES, two_invoice_case
from settlement.domain.receipts import Allocation, allocate, amounts_owed

MARCH_2 = date(2026, 3, 2)


def test_a_receipt_pays_indemnities_then_interest_then_the_oldest_principal() -> None:
    # On 2 March 2026 the debtor owes:
    #   indemnities: 2 x 40.00                                          =    80.00
    #   interest, invoice 1: 1,000.00 x 12.15 % x 30/365 (1 Feb - 2 Mar) =     9.99 (9.986)
    #   interest, invoice 2:   500.00 x 12.15 % x 16/365 (15 Feb - 2 Mar) =     2.66 (2.663)
    #   principal: 1,000.00 + 500.00                                    = 1,500.00
    owed = amounts_owed(two_invoice_case(), MARCH_2, rates=RATES)
    assert (owed.indemnity_minor, owed.interest_minor, owed.principal_minor) == (
        8000,
        1265,
        150_000,
    )
    # 300.00 received that day: 80.00 to the indemnities, 12.65 to the interest, the rest
    # (300.00 - 80.00 - 12.65 = 207.35) to the principal of invoice 1, the oldest.
    split = allocate(two_invoice_case(), 30_000, MARCH_2, rates=RATES)
    assert split == Allocation(
        to_indemnity=8000, to_interest=1265, to_principal=20_735, overpaid=0, settles_in_full=False
    )
    after = amounts_owed(two_invoice_case(), MARCH_2, [(MARCH_2, 30_000)], rates=RATES)
    assert after.principal_minor == 150_000 - 20_735
    assert after.indemnity_minor == after.interest_minor == 0


def test_a_second_receipt_is_split_after_the_first_and_pays_the_interest_since() -> None:
    # After 300.00 on 2 March, invoice 1 owes 792.65 principal, invoice 2 still 500.00.
    # On 1 April (30 more days) interest is 792.65 x 12.15 % x 30/365 = 7.92 (7.915) on
    # invoice 1 and 500.00 x 12.15 % x 30/365 = 4.99 (4.993) on invoice 2: 12.91 in all,
    # no new indemnity (one per invoice). 100.00 received: 12.91 interest, 87.09 principal.
    split = allocate(two_invoice_case(), 10_000, date(2026, 4, 1), [(MARCH_2, 30_000)], rates=RATES)
    assert split == Allocation(
        to_indemnity=0, to_interest=1291, to_principal=8709, overpaid=0, settles_in_full=False
    )


def test_paying_more_than_is_owed_settles_the_case_and_holds_the_rest_as_overpaid() -> None:
    # 2,000.00 against 80.00 + 12.65 + 1,500.00 = 1,592.65 owed: 407.35 overpaid.
    split = allocate(two_invoice_case(), 200_000, MARCH_2, rates=RATES)
    assert split.overpaid == 200_000 - 159_265 == 40_735
    assert split.settles_in_full
    assert split.total == 200_000


def test_a_consumer_debtor_owes_no_interest_nor_indemnity_so_all_goes_to_principal() -> None:
    case = two_invoice_case()
    consumer = type(case)(**{**case.__dict__, "debtor_is_business": False})
    split = allocate(consumer, 30_000, MARCH_2, rates=RATES)
    assert split == Allocation(0, 0, 30_000, 0, False)
