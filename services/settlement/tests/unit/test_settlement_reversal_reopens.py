"""Issue 14, point 2, settlement's side: a bank payment that paid a case in full, its fee booked
(success fee, VAT, the platform's commission and the partner's referral), then reversed by the
bank: the case is owed in full again, `payment-reversed` tells intake and matching (which
reopens the case and unattributes the payment), and the fee is unwound to the cent: every
account back to zero, the ledger sound."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from services.settlement.tests.unit.camt_files import Entry
from services.settlement.tests.unit.money_in_world import REF_A, World, two_invoice_case
from settlement.domain.billing import FeeRates
from settlement.domain.fee_commands import BookFees, ReverseFees, SetCreditorBilling
from settlement.domain.fees import Attribution, Source
from settlement.service_layer.billing import set_creditor_billing
from settlement.service_layer.direct_payments import paid_towards
from settlement.service_layer.fees import book_fees, reverse_fees
from settlement.service_layer.reads import check_ledger, trial_balance

RATES = FeeRates(commission_bp=1500, referral_share_bp=2000)
ON = date(2026, 3, 2)


async def test_a_reversed_payment_in_full_unwinds_the_money_and_the_fee_exactly() -> None:
    world = World()
    case = replace(two_invoice_case(), debtor_is_business=False)  # 1,500.00 owed
    world.knows(case, REF_A)
    await set_creditor_billing(
        SetCreditorBilling("cred-1", "part-1", operator="ops-anne", reason="referred"), world.uow()
    )
    await world.import_entries([Entry(150_000, reference=REF_A, end_to_end_id="E2E-9")])
    (paid,) = world.received()
    assert paid.settles_in_full

    # Matching attributes it to the holder at 10 %: 150.00 fee + 30.00 VAT, 22.50 commission
    # + 4.50 VAT, 4.50 referral.
    attribution = Attribution(
        event_id="50000000-0000-4000-8000-000000000001",
        case_id=case.case_id,
        creditor_id="cred-1",
        payment_id=paid.receipt_id,
        amount_minor=150_000,
        paid_on=ON,
        source=Source.BANK,
        provider_id="prov-1",
        round=1,
        fee_bp=1000,
        fixed_fee_minor=0,
    )
    async with world.uow() as uow:
        await book_fees(BookFees(attribution), uow, RATES)
        await uow.commit()
    booked = {b.account: b.amount for b in await trial_balance(world.uow(), ON) if b.amount}
    assert booked["4011/prov-1"] == 18_000 - 2_700  # fee with VAT, less commission with VAT
    assert booked["4671/cred-1"] == 150_000 - 18_000
    assert booked["706"] == 2_250
    assert booked["4012/part-1"] == 450

    # The bank takes the money back three days later.
    await world.import_entries(
        [Entry(150_000, credit=False, reversal=True, reference=REF_A, end_to_end_id="E2E-9",
               booked_on=date(2026, 3, 5))],
        statement_id="STMT-R",
    )  # fmt: skip
    (told,) = world.reversed()
    assert (told.receipt_id, told.amount.minor_units) == (paid.receipt_id, 150_000)
    assert await paid_towards(world.uow(), case.case_id) == []  # owed in full again

    # Matching, having reopened the case, unattributes the payment: the fee is unwound.
    async with world.uow() as uow:
        await reverse_fees(
            ReverseFees(paid.receipt_id, "60000000-0000-4000-8000-000000000001", date(2026, 3, 5)),
            uow,
        )
        await uow.commit()
    left = {b.account: b.amount for b in await trial_balance(world.uow(), date(2026, 3, 5))}
    assert all(amount == 0 for amount in left.values()), left
    assert not (await check_ledger(world.uow())).breaches
