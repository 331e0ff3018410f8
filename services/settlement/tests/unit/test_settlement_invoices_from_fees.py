"""Invoices issued from fees on the fakes: requested with the fee's booking, issued once the
parties' billing identities are set (a party without one waits, named, without failing the fee),
once per fee however often the issuer runs or the fee is told."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from recouvra_shared.errors import InvalidRequest
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.invoice_builders import (
    CREDITOR,
    PLATFORM,
    PROVIDER,
    PlainRenderer,
)
from services.settlement.tests.unit.test_settlement_fees import RATES, WHO, paid, receive
from settlement.domain.fee_commands import BookFees, SetProviderBilling
from settlement.domain.invoices import InvoiceKind
from settlement.service_layer.billing import set_provider_billing
from settlement.service_layer.fees import book_fees
from settlement.service_layer.invoice_issuing import (
    issue_requested_invoices,
    pending_invoices,
    set_billing_identity,
)
from settlement.service_layer.reads import check_ledger

TODAY = date(2026, 5, 6)


class World:
    """One settlement database in memory, and the issuer as bootstrap runs it."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.renderer = PlainRenderer()

    def units(self) -> FakeSettlementUnitOfWork:
        return FakeSettlementUnitOfWork(self.tables)

    async def fee(self, n: int, cents: int, **terms: object) -> None:
        uow = self.units()
        await receive(uow, f"L{n}", cents)
        async with uow:
            await book_fees(BookFees(paid(n, cents, **terms)), uow, RATES)
            await uow.commit()

    async def issue(self) -> None:
        await issue_requested_invoices(self.units, self.renderer, PLATFORM, lambda: TODAY)

    def invoices(self) -> dict[InvoiceKind, list]:
        found: dict[InvoiceKind, list] = {}
        for invoice, pdf in self.tables.invoices.values():
            assert pdf == f"%PDF {invoice.number}".encode()
            found.setdefault(invoice.to_issue.kind, []).append(invoice)
        return found


@pytest.fixture
def world() -> World:
    return World()


async def known(world: World, *parties) -> None:
    for party in parties:
        await set_billing_identity(party, "ops-anne", world.units())


async def test_a_fee_is_invoiced_from_its_booking_with_its_own_figures(world: World) -> None:
    await known(world, CREDITOR, PROVIDER)
    # 1,200.00 paid, 10 %: a 120.00 fee + 24.00 VAT; the platform's 15 %: 18.00 + 3.60 VAT.
    await world.fee(1, 120_000)
    await world.issue()
    issued = world.invoices()
    (fee,) = issued[InvoiceKind.PROVIDER_FEE]
    (commission,) = issued[InvoiceKind.PLATFORM_COMMISSION]
    assert fee.number == "HON-prov-1-000001"
    assert (fee.to_issue.seller, fee.to_issue.buyer) == (PROVIDER, CREDITOR)
    assert (fee.to_issue.amount_excl_vat, fee.to_issue.vat_amount, fee.total) == (
        12_000, 2_400, 14_400,
    )  # fmt: skip
    assert (fee.to_issue.service_date, fee.to_issue.issued_on) == (date(2026, 5, 4), TODAY)
    assert fee.to_issue.case_id == "case-1"
    assert commission.number == "COM-000001"
    assert (commission.to_issue.seller, commission.to_issue.buyer) == (PLATFORM, PROVIDER)
    assert (commission.to_issue.amount_excl_vat, commission.to_issue.vat_amount) == (1_800, 360)
    assert await pending_invoices(world.units()) == []


async def test_a_fee_is_invoiced_once_however_often_it_is_told_or_the_issuer_runs(
    world: World,
) -> None:
    await known(world, CREDITOR, PROVIDER)
    await world.fee(1, 120_000)
    await world.issue()
    await world.issue()
    uow = world.units()
    async with uow:  # the same attribution delivered again books nothing, requests nothing
        await book_fees(BookFees(paid(1, 120_000)), uow, RATES)
        await uow.commit()
    await world.issue()
    assert {k: len(v) for k, v in world.invoices().items()} == {
        InvoiceKind.PROVIDER_FEE: 1,
        InvoiceKind.PLATFORM_COMMISSION: 1,
    }


async def test_a_party_without_a_billing_identity_waits_named_and_the_fee_stands(
    world: World,
) -> None:
    await known(world, PROVIDER)
    await world.fee(1, 120_000)
    await world.issue()
    # The commission invoice (platform -> provider) is issued; the fee invoice waits for cred-1.
    assert list(world.invoices()) == [InvoiceKind.PLATFORM_COMMISSION]
    (waiting,) = await pending_invoices(world.units())
    assert waiting.kind is InvoiceKind.PROVIDER_FEE
    assert waiting.waiting_for is not None
    assert "creditor cred-1" in waiting.waiting_for
    assert not (await check_ledger(world.units())).breaches
    assert world.tables.fee_bookings  # the fee itself was booked

    await known(world, CREDITOR)
    await world.issue()
    assert [i.number for i in world.invoices()[InvoiceKind.PROVIDER_FEE]] == ["HON-prov-1-000001"]
    assert await pending_invoices(world.units()) == []


async def test_a_provider_under_the_franchise_invoices_its_fee_without_vat(world: World) -> None:
    franchise = replace(PROVIDER, vat_number=None)
    await known(world, CREDITOR, franchise)
    uow = world.units()
    await set_provider_billing(SetProviderBilling("prov-1", "franchise", None, **WHO), uow)
    await world.fee(1, 120_000)
    await world.issue()
    (fee,) = world.invoices()[InvoiceKind.PROVIDER_FEE]
    assert (fee.to_issue.amount_excl_vat, fee.to_issue.vat_rate_bp, fee.total) == (
        12_000,
        0,
        12_000,
    )
    assert fee.vat_exempt


async def test_an_identity_the_invoice_cannot_carry_waits_with_the_rule_it_breaks(
    world: World,
) -> None:
    # Liable for VAT (never configured otherwise), but its identity names no VAT number.
    await known(world, CREDITOR, replace(PROVIDER, vat_number=None))
    await world.fee(1, 120_000)
    await world.issue()
    (waiting,) = await pending_invoices(world.units())
    assert waiting.kind is InvoiceKind.PROVIDER_FEE
    assert "vat_rate_bp" in (waiting.waiting_for or "")


async def test_a_payment_that_earns_no_fee_asks_for_no_invoice(world: World) -> None:
    await known(world, CREDITOR, PROVIDER)
    await world.fee(1, 120_000, fee_bp=0)
    await world.issue()
    assert world.tables.invoices == {}
    assert await pending_invoices(world.units()) == []


async def test_an_identity_is_checked_before_it_is_kept(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await set_billing_identity(replace(CREDITOR, siren="542107652"), "ops", world.units())
    assert {v.field for v in refused.value.violations} == {"identity.siren"}
    assert world.tables.invoice_requests.identities == {}
