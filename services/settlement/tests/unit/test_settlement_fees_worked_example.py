"""One case through three rounds, written out by hand: every figure of its fees explained.

Case case-7 of creditor cred-7, brought by partner part-3. The platform keeps 15 % of each
provider's fee (excl. VAT) as its commission, and gives the partner 20 % of that commission.
Every figure is rounded half up to the cent.

- Round 1, prov-A (liable to VAT) at 12 %, no fixed fee. The debtor pays 3,000.00 into the
  client-money account (source bank).
- Round 2, prov-B at 15 %: nothing is paid; nothing is booked.
- Round 3, prov-C (franchise en base, CGI 293 B: no VAT) at 9.5 % + a fixed 50.00. The debtor
  pays 1,234.56 directly to the creditor (source creditor), then 500.00 into the bank.
"""

from __future__ import annotations

from datetime import date

from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, account
from settlement.domain.billing import FeeRates
from settlement.domain.commands import PostEntry
from settlement.domain.fee_commands import BookFees, SetCreditorBilling, SetProviderBilling
from settlement.domain.fees import Attribution, FeeBase, Source
from settlement.domain.ledger import Journal, credit, debit
from settlement.service_layer.billing import set_creditor_billing, set_provider_billing
from settlement.service_layer.fees import book_fees
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import check_ledger, trial_balance

RATES = FeeRates(commission_bp=1500, referral_share_bp=2000)
ROUND_1_PAID, ROUND_3_DIRECT, ROUND_3_PAID = date(2026, 3, 2), date(2026, 6, 1), date(2026, 6, 15)


def receipt(line: str, cents: int, on: date) -> PostEntry:
    """The debtor's transfer reaching the client-money account, held for cred-7."""
    return PostEntry(
        f"bank-line:{line}",
        on,
        Journal.BANK,
        "Debtor payment for case-7",
        (
            debit(account(CLIENT_MONEY_BANK), cents, "case-7"),
            credit(account(FUNDS_HELD, "cred-7"), cents, "case-7"),
        ),
    )


def attributed(
    n: int, cents: int, on: date, source: Source, provider: str, round: int, bp: int, fixed: int
) -> BookFees:
    return BookFees(
        Attribution(
            event_id=f"00000000-0000-4000-8000-00000000000{n}",
            case_id="case-7",
            creditor_id="cred-7",
            payment_id=f"pay-{n}",
            amount_minor=cents,
            paid_on=on,
            source=source,
            provider_id=provider,
            round=round,
            fee_bp=bp,
            fixed_fee_minor=fixed,
            base=FeeBase.COLLECTED,
        )
    )


async def book(uow: FakeSettlementUnitOfWork, command: BookFees):  # type: ignore[no-untyped-def]
    async with uow:
        booking = await book_fees(command, uow, RATES)
        await uow.commit()
    return booking


async def test_one_case_three_rounds_fees_vat_commission_and_referral() -> None:
    uow = FakeSettlementUnitOfWork()
    who = {"operator": "ops-anne", "reason": "onboarding"}
    await set_provider_billing(SetProviderBilling("prov-A", "liable", "FR40303265045", **who), uow)
    await set_provider_billing(SetProviderBilling("prov-C", "franchise", None, **who), uow)
    await set_creditor_billing(SetCreditorBilling("cred-7", "part-3", **who), uow)

    # Round 1: 3,000.00 received in the bank, held for cred-7.
    await post_entry(receipt("L1", 300_000, ROUND_1_PAID), uow)
    one = await book(uow, attributed(1, 300_000, ROUND_1_PAID, Source.BANK, "prov-A", 1, 1200, 0))
    # fee 12 % of 3,000.00 = 360.00; VAT 20 % of 360.00 = 72.00; owed by cred-7: 432.00,
    # taken from its funds held. Commission 15 % of 360.00 = 54.00, its VAT 10.80, owed by
    # prov-A: 64.80. Referral 20 % of 54.00 = 10.80, owed to part-3.
    f = one.figures
    assert (f.percent_part, f.fixed_part, f.fee_vat, f.fee_with_vat) == (36_000, 0, 7_200, 43_200)
    assert (f.commission, f.commission_vat, f.referral) == (5_400, 1_080, 1_080)
    assert [part for part, _ in one.entries] == ["fee", "commission", "referral"]

    # Round 2: prov-B held the case at 15 %, nobody paid: nothing to book.

    # Round 3, first payment: 1,234.56 paid directly to cred-7.
    two = await book(
        uow, attributed(2, 123_456, ROUND_3_DIRECT, Source.CREDITOR, "prov-C", 3, 950, 5_000)
    )
    # fee 9.5 % of 1,234.56 = 117.2832 -> 117.28, plus the round's fixed 50.00 = 167.28; no VAT
    # (293 B); owed by cred-7 (4111), to be offset against its next payout. Commission 15 % of
    # 167.28 = 25.092 -> 25.09, VAT 20 % of 25.09 = 5.018 -> 5.02; referral 20 % of 25.09 -> 5.02.
    f = two.figures
    assert (f.percent_part, f.fixed_part, f.fee_vat, f.fee_with_vat) == (11_728, 5_000, 0, 16_728)
    assert (f.commission, f.commission_vat, f.referral) == (2_509, 502, 502)

    # Round 3, second payment: 500.00 into the bank.
    await post_entry(receipt("L2", 50_000, ROUND_3_PAID), uow)
    three = await book(
        uow, attributed(3, 50_000, ROUND_3_PAID, Source.BANK, "prov-C", 3, 950, 5_000)
    )
    # fee 9.5 % of 500.00 = 47.50; the fixed fee was borne by the round's first payment; no VAT.
    # Commission 15 % of 47.50 = 7.125 -> 7.13 (half up); its VAT 20 % of 7.13 = 1.426 -> 1.43;
    # referral 20 % of 7.13 = 1.426 -> 1.43.
    f = three.figures
    assert (f.percent_part, f.fixed_part, f.fee_vat, f.fee_with_vat) == (4_750, 0, 0, 4_750)
    assert (f.commission, f.commission_vat, f.referral) == (713, 143, 143)

    balances = {b.account: b.amount for b in await trial_balance(uow, ROUND_3_PAID)}
    assert balances == {
        "5121": 350_000,  # 3,000.00 + 500.00 received
        "4671/cred-7": 302_050,  # 3,500.00 held, less prov-A's 432.00 and prov-C's 47.50
        "4111/cred-7": 16_728,  # prov-C's 167.28 on the money cred-7 received itself
        "4011/prov-A": 36_720,  # 432.00 fee with VAT, less 64.80 commission with VAT
        "4011/prov-C": 17_611,  # 167.28 + 47.50 fees, less 30.11 and 8.56 commission with VAT
        "706": 8_622,  # commissions 54.00 + 25.09 + 7.13
        "44571": 1_725,  # the platform's VAT on them: 10.80 + 5.02 + 1.43
        "6222": 1_725,  # partner's share: 10.80 + 5.02 + 1.43
        "4012/part-3": 1_725,
    }
    # Funds held never reach revenue nor VAT: 706 and 44571 hold only the commission and its VAT.
    assert not (await check_ledger(uow)).breaches
