"""Fees booked from attributions (by source, capped, once, reversed); profiles audited."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from recouvra_shared.errors import InvalidField, InvalidRequest
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork
from settlement.domain.accounts import CLIENT_MONEY_BANK, FUNDS_HELD, account
from settlement.domain.billing import FeeRates
from settlement.domain.commands import PostEntry
from settlement.domain.fee_commands import (
    BookFees,
    ReverseFees,
    SetCreditorBilling,
    SetProviderBilling,
)
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.fees import Attribution, FeeBase, Source, largest_fee_within, round_half_up
from settlement.domain.ledger import Journal, credit, debit
from settlement.service_layer.billing import set_creditor_billing, set_provider_billing
from settlement.service_layer.fees import book_fees, reverse_fees
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.reads import check_ledger, trial_balance

RATES = FeeRates(commission_bp=1500, referral_share_bp=2000)
ON = date(2026, 5, 4)
WHO = {"operator": "ops-anne", "reason": "contract signed"}


def paid(n: int, cents: int, source: Source = Source.BANK, **terms: object) -> Attribution:
    base = Attribution(
        event_id=f"10000000-0000-4000-8000-00000000000{n}",
        case_id="case-1",
        creditor_id="cred-1",
        payment_id=f"pay-{n}",
        amount_minor=cents,
        paid_on=ON,
        source=source,
        provider_id="prov-1",
        round=1,
        fee_bp=1000,
        fixed_fee_minor=0,
    )
    return replace(base, **terms)  # type: ignore[arg-type]


async def receive(uow: FakeSettlementUnitOfWork, line: str, cents: int) -> None:
    await post_entry(
        PostEntry(
            f"bank-line:{line}",
            ON,
            Journal.BANK,
            "Debtor payment",
            (
                debit(account(CLIENT_MONEY_BANK), cents, "case-1"),
                credit(account(FUNDS_HELD, "cred-1"), cents, "case-1"),
            ),
        ),
        uow,
    )


async def book(uow: FakeSettlementUnitOfWork, attribution: Attribution) -> FeeBooking:
    async with uow:
        booking = await book_fees(BookFees(attribution), uow, RATES)
        await uow.commit()
    return booking


async def unbook(uow: FakeSettlementUnitOfWork, payment_id: str, n: int) -> FeeBooking | None:
    async with uow:
        booking = await reverse_fees(
            ReverseFees(payment_id, f"20000000-0000-4000-8000-00000000000{n}", ON), uow
        )
        await uow.commit()
    return booking


async def balances(uow: FakeSettlementUnitOfWork) -> dict[str, int]:
    return {b.account: b.amount for b in await trial_balance(uow, ON) if b.amount}


def test_rounding_is_half_up_to_the_cent() -> None:
    assert round_half_up(7125, 1000) == 7  # 7.125 -> 7 (not a half)
    assert round_half_up(71250, 10000) == 7  # 7.125 -> 7
    assert round_half_up(7125, 10) == 713  # 712.5 -> 713
    assert round_half_up(7124, 10) == 712
    assert largest_fee_within(1000, liable=True) == 833  # 833 + 166.6 -> 167 = 1000
    assert largest_fee_within(1000, liable=False) == 1000


async def test_a_provider_never_configured_is_charged_vat_as_liable() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 100_000)
    booking = await book(uow, paid(1, 100_000))
    assert (booking.figures.fee, booking.figures.fee_vat) == (10_000, 2_000)


async def test_a_fee_is_never_more_than_the_payment_and_the_fixed_fee_carries_over() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 1_000)
    # 10 % of 10.00 = 1.00, plus a fixed 50.00: only 8.33 + 1.67 VAT fits in 10.00.
    first = await book(uow, paid(1, 1_000, fixed_fee_minor=5_000))
    assert (first.figures.percent_part, first.figures.fixed_part) == (100, 733)
    assert first.figures.fee_with_vat == 1_000
    # The round's next payment bears the rest of the fixed fee: 50.00 - 7.33 = 42.67.
    await receive(uow, "L2", 100_000)
    second = await book(uow, paid(2, 100_000, fixed_fee_minor=5_000))
    assert (second.figures.percent_part, second.figures.fixed_part) == (10_000, 4_267)
    # Another round (another holder) owes its own fixed fee.
    await receive(uow, "L3", 100_000)
    third = await book(uow, paid(3, 100_000, fixed_fee_minor=5_000, round=2, provider_id="p2"))
    assert third.figures.fixed_part == 5_000


async def test_fees_on_money_not_yet_held_are_owed_by_the_creditor_not_drawn_below_zero() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 6_000)  # only 60.00 held for cred-1
    await book(uow, paid(1, 100_000))  # its fee with VAT: 120.00
    found = await balances(uow)
    assert "4671/cred-1" not in found  # 60.00 taken: nothing left, nothing below zero
    assert found["4111/cred-1"] == 6_000
    assert found["4011/prov-1"] == 12_000 - 1_800


async def test_money_paid_to_the_creditor_makes_the_creditor_owe_the_fee() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 500_000)  # other money held for cred-1 is not touched
    await book(uow, paid(1, 100_000, Source.CREDITOR))
    found = await balances(uow)
    assert found["4671/cred-1"] == 500_000
    assert found["4111/cred-1"] == 12_000
    assert found["4011/prov-1"] == 12_000 - 1_800


async def test_money_the_provider_collected_itself_leaves_it_owing_the_commission() -> None:
    uow = FakeSettlementUnitOfWork()
    booking = await book(uow, paid(1, 100_000, Source.PROVIDER))
    # The provider kept its 100.00 + 20.00 VAT from the creditor's money: no fee entry.
    assert [part for part, _ in booking.entries] == ["commission"]
    assert (booking.figures.fee, booking.figures.commission) == (10_000, 1_500)
    found = await balances(uow)
    assert found == {"4011/prov-1": -1_800, "706": 1_500, "44571": 300}


async def test_nobody_held_the_case_that_day_no_fee() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 100_000)
    booking = await book(uow, paid(1, 100_000, provider_id="", fee_bp=None, round=0))
    assert booking.entries == ()
    assert await balances(uow) == {"5121": 100_000, "4671/cred-1": 100_000}


async def test_the_principal_base_stands_for_the_whole_payment_until_allocation_is_known() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 200_000)
    unknown = await book(uow, paid(1, 100_000, base=FeeBase.PRINCIPAL))
    known = await book(uow, paid(2, 100_000, base=FeeBase.PRINCIPAL, principal_minor=60_000))
    assert (unknown.figures.amount_on_base, unknown.figures.fee) == (100_000, 10_000)
    assert (known.figures.amount_on_base, known.figures.fee) == (60_000, 6_000)


async def test_an_attribution_told_twice_is_booked_once() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 100_000)
    first = await book(uow, paid(1, 100_000))
    again = await book(uow, paid(1, 100_000))
    assert again.entries == first.entries
    assert len(uow.kept.entries) == 3  # the receipt, the fee, the commission (no partner)


async def test_an_unattributed_payment_has_its_fee_entries_reversed_once() -> None:
    uow = FakeSettlementUnitOfWork()
    await set_creditor_billing(SetCreditorBilling("cred-1", "part-1", **WHO), uow)
    await receive(uow, "L1", 100_000)
    await book(uow, paid(1, 100_000, fixed_fee_minor=1_000))
    reversed_ = await unbook(uow, "pay-1", 1)
    assert reversed_ is not None
    assert reversed_.reversed_by is not None
    assert await balances(uow) == {"5121": 100_000, "4671/cred-1": 100_000}
    assert await unbook(uow, "pay-1", 2) is None  # told again: nothing more stands
    assert await unbook(uow, "pay-unknown", 3) is None
    assert len(uow.kept.entries) == 1 + 3 + 3
    assert not (await check_ledger(uow)).breaches
    # The reversed payment's fixed fee is due again on the round's next payment.
    await receive(uow, "L2", 100_000)
    assert (await book(uow, paid(2, 100_000, fixed_fee_minor=1_000))).figures.fixed_part == 1_000


async def test_a_providers_vat_status_is_refused_with_the_rule_it_breaks() -> None:
    uow = FakeSettlementUnitOfWork()
    cases = [
        (("prov-1", "liable", None), "vat_number"),
        (("prov-1", "liable", "FR00000000000"), "vat_number"),
        (("prov-1", "franchise", "FR40303265045"), "vat_number"),
        (("prov-1", "exempt", None), "vat_status"),
        (("prov 1", "franchise", None), "provider_id"),
    ]
    for (provider, status, number), field in cases:
        with pytest.raises(InvalidRequest) as refused:
            await set_provider_billing(SetProviderBilling(provider, status, number, **WHO), uow)
        assert field in {v.field for v in refused.value.violations}
    with pytest.raises(InvalidField):
        await set_provider_billing(
            SetProviderBilling("prov-1", "franchise", None, operator="", reason="x"), uow
        )
    assert uow.kept.providers == {}
    assert uow.kept.billing_changes == []


async def test_each_profile_change_is_audited_and_applies_to_fees_booked_after_it() -> None:
    uow = FakeSettlementUnitOfWork()
    at = datetime(2026, 5, 1, tzinfo=UTC)
    await receive(uow, "L1", 300_000)
    before = await book(uow, paid(1, 100_000))
    await set_provider_billing(
        SetProviderBilling("prov-1", "franchise", None, **WHO), uow, now=lambda: at
    )
    await set_provider_billing(  # the same again changes nothing
        SetProviderBilling("prov-1", "franchise", None, **WHO), uow, now=lambda: at
    )
    after = await book(uow, paid(2, 100_000))
    assert (before.figures.fee_vat, after.figures.fee_vat) == (2_000, 0)
    await set_provider_billing(
        SetProviderBilling("prov-1", "liable", "fr 40 303265045", operator="ops-bob", reason="VAT"),
        uow,
    )
    changes = await uow.billing.changes("prov-1")
    assert [(c.operator, c.before, c.after) for c in changes] == [
        ("ops-anne", "unset (liable)", "franchise"),
        ("ops-bob", "franchise", "liable FR40303265045"),
    ]
    assert changes[0].changed_at == at


async def test_a_payment_unattributed_then_credited_to_another_holder_is_booked_anew() -> None:
    uow = FakeSettlementUnitOfWork()
    await receive(uow, "L1", 100_000)
    await book(uow, paid(1, 100_000))
    await unbook(uow, "pay-1", 1)
    again = await book(uow, paid(2, 100_000, payment_id="pay-1", provider_id="prov-2"))
    assert again.attribution.provider_id == "prov-2"
    assert [part for part, _ in again.entries] == ["fee", "commission"]
    assert (await balances(uow))["4011/prov-2"] == 12_000 - 1_800
    assert "4011/prov-1" not in await balances(uow)
    # A second attribution of a payment whose fee stands books nothing more.
    assert await book(uow, paid(3, 100_000, payment_id="pay-1", provider_id="prov-3")) == again
