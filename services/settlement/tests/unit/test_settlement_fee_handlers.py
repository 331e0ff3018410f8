"""matching.payment-attributed.v1 and payment-unattributed.v1 through settlement's own
subscriptions, on the in-memory broker."""

from __future__ import annotations

from datetime import date

from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed, PaymentUnattributed
from recouvra_shared.db import Database
from recouvra_shared.events import new_event
from recouvra_shared.runtime import Wiring
from recouvra_shared.testing import PlatformTables, memory_broker
from recouvra_shared.unit_of_work import OutgoingEvent
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from settlement.bootstrap import PAYMENT_ATTRIBUTED_TOPIC, PAYMENT_UNATTRIBUTED_TOPIC, build
from settlement.config import SettlementSettings

CASE = "0b6f7c1e-6f0e-4d1a-9a57-7d6a3c2b1a00"


def attributed(source: str = "creditor", currency: str = "EUR") -> OutgoingEvent:
    fact = PaymentAttributed(
        case_id=CASE,
        payment_id="pay-1",
        amount=Money(currency=currency, minor_units=250_000),
        paid_on="2026-11-30",
        source=source,
        provider_id="prov-1",
        round=2,
        fixed_fee=Money(currency="EUR", minor_units=0),
        success_fee=Percentage(basis_points=1_000),
        fee_base="principal",
    )
    return new_event(
        producer="matching",
        event_type="payment-attributed",
        version=1,
        case_id=CASE,
        tenant_id="cred-9",
        payload=fact,
    )


async def deliver(*events: OutgoingEvent) -> tuple[Tables, PlatformTables]:
    tables, platform = Tables(), PlatformTables()
    settings = SettlementSettings(fee_commission_bp=1_000, referral_share_bp=0)
    database = Database.connect(settings.database_url.get_secret_value())  # connects nothing
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
    finally:
        await database.dispose()
    fee_topics = {PAYMENT_ATTRIBUTED_TOPIC, PAYMENT_UNATTRIBUTED_TOPIC}
    subscriptions = [s for s in parts.subscriptions if s.topic in fee_topics]
    units = lambda: FakeSettlementUnitOfWork(tables, platform)  # noqa: E731
    async with memory_broker(subscriptions, units) as broker:
        await broker.publish(*events)
    return tables, platform


async def test_an_attributed_payment_books_the_fee_on_the_configured_rates_once() -> None:
    event = attributed()
    tables, platform = await deliver(event, event)
    [booking] = tables.fee_bookings.values()
    assert booking.attribution.creditor_id == "cred-9"  # the case's tenant
    assert booking.attribution.event_id == event.envelope.event_id
    # 10 % of 2,500.00 (the principal base stands for the whole payment for now) + 20 % VAT,
    # owed by the creditor it was paid to; the commission at the configured 10 %.
    assert (booking.figures.fee, booking.figures.fee_vat, booking.figures.commission) == (
        25_000,
        5_000,
        2_500,
    )
    assert [e.fact_key for e in tables.entries] == [
        f"event:{event.envelope.event_id}",
        f"event:{event.envelope.event_id}:commission",
    ]
    assert len(platform.inbox) == 1
    # Paid on 30 November, told later: booked the day it was told, never before.
    told = event.envelope.occurred_at.ToDatetime().date()
    assert {e.booked_on for e in tables.entries} == {max(told, date(2026, 11, 30))}


async def test_an_attribution_settlement_cannot_read_is_a_dead_letter_that_books_nothing() -> None:
    tables, platform = await deliver(attributed(source="cash"), attributed(currency="USD"))
    assert tables.entries == []
    assert tables.fee_bookings == {}
    assert len(platform.dead_letters) == 2


def unattributed() -> OutgoingEvent:
    fact = PaymentUnattributed(
        case_id=CASE,
        payment_id="pay-1",
        receipt_id="rcpt-1",
        amount=Money(currency="EUR", minor_units=250_000),
        reversed_on="2026-12-02",
        provider_id="prov-1",
        round=2,
    )
    return new_event(
        producer="matching",
        event_type="payment-unattributed",
        version=1,
        case_id=CASE,
        tenant_id="cred-9",
        payload=fact,
    )


async def test_a_payment_the_bank_took_back_has_its_fee_reversed_once() -> None:
    booked, undone = attributed(), unattributed()
    tables, _ = await deliver(booked, undone, undone)
    [booking] = tables.fee_bookings.values()
    assert booking.reversed_by == undone.envelope.event_id
    reversals = [e for e in tables.entries if e.reverses is not None]
    assert len(reversals) == 2  # the fee and its commission, each reversed once
    balances: dict[str, int] = {}
    for entry in tables.entries:
        for line in entry.lines:
            balances[line.account] = balances.get(line.account, 0) + line.debit - line.credit
    assert all(amount == 0 for amount in balances.values())  # as if nothing had been booked
