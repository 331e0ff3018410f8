"""Direct payments on the real PostgreSQL: kept once per declaration, read back in date order,
counted in the split of a later bank payment, and a non-positive amount refused by the
database itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.money_in_world import CASE_A, two_invoice_case
from settlement.domain.direct_payments import DirectPayment
from settlement.service_layer.direct_payments import paid_before_receipt, payment_declared

pytestmark = pytest.mark.integration


def declared(n: int, cents: int, on: date) -> DirectPayment:
    return DirectPayment(
        f"3000000{n}-0000-4000-8000-000000000001", CASE_A, "cred-1", cents, "EUR", on, False
    )


async def test_declarations_are_kept_once_and_counted_before_a_bank_payment(ledger: Ledger) -> None:
    async with ledger.units() as uow:
        await uow.cases.put(replace(two_invoice_case(), debtor_is_business=False))
        assert await payment_declared(declared(2, 20_000, date(2026, 2, 25)), uow)
        assert await payment_declared(declared(1, 10_000, date(2026, 2, 1)), uow)
        assert not await payment_declared(declared(1, 10_000, date(2026, 2, 1)), uow)
        # Another creditor's word on this case is not kept.
        assert not await payment_declared(
            replace(declared(3, 5_000, date(2026, 2, 2)), creditor_id="cred-2"), uow
        )
        await uow.commit()
    async with ledger.units() as uow:
        kept = await uow.receipts.direct_payments_to(CASE_A)
        assert [(p.paid_on, p.amount_minor) for p in kept] == [
            (date(2026, 2, 1), 10_000),
            (date(2026, 2, 25), 20_000),
        ]
        # A bank payment of 200.00 on 2 March is the 25 February declaration told again.
        assert await paid_before_receipt(uow, CASE_A, date(2026, 3, 2), 20_000) == [
            (date(2026, 2, 1), 10_000)
        ]


async def test_the_database_refuses_a_direct_payment_of_nothing(ledger: Ledger) -> None:
    async with ledger.units() as uow:
        with pytest.raises(IntegrityError, match="direct_payment_positive"):
            await uow.receipts.add_direct_payment(declared(1, 0, date(2026, 2, 1)))
