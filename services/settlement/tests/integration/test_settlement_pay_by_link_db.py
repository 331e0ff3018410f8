"""Pay by link's storage on the real PostgreSQL: an announcement no statement line matched in
time is unwound and flagged, its booking reversed, the books still sound; one live link per case
and purpose even when asked at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN
from services.settlement.tests.unit.payment_link_fakes import FakeInitiation
from settlement.domain.payment_instructions import client_money_account
from settlement.domain.payment_links import PaymentStatus, StatusNotification
from settlement.service_layer.announced_payments import (
    Clock,
    Outcome,
    receive_notifications,
    unwind_unmatched,
)
from settlement.service_layer.payment_links import (
    CreatePaymentLink,
    LinkPolicy,
    create_payment_link,
)
from tests.support.kafka_read import count_rows

pytestmark = pytest.mark.integration

CASE = "7e4f0c85-9d1a-4f4e-8c8a-5e4f3a7b8d94"
NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
POLICY = LinkPolicy(
    client_money_account("Recouvra SAS - fonds de tiers", CLIENT_MONEY_IBAN, "AGRIFRPP"), 30
)


async def test_an_unmatched_announcement_is_unwound_and_flagged_and_the_books_stay_sound(
    ledger: Ledger,
) -> None:
    provider = FakeInitiation()
    given = await create_payment_link(
        CreatePaymentLink(CASE, 90_000, "EUR", "service", "messaging"),
        ledger.units,
        provider,
        POLICY,
        lambda: NOW,
    )
    executed = StatusNotification(
        notification_id="bridge:n-1",
        kind="payment.transaction.updated",
        sent_at=NOW,
        link_id=given.link.link_id,
        transaction_id="txn-1",
        end_to_end_id=given.link.reference,
        client_reference=given.link.reference,
        payment_status=PaymentStatus.EXECUTED,
    )
    at = Clock(lambda: NOW)
    outcomes = await receive_notifications([executed], ledger.units, at, timedelta(minutes=5))
    assert outcomes == [Outcome.ANNOUNCED]
    # Delivered again, even at once from two places: one announcement.
    again = await asyncio.gather(
        *(
            receive_notifications([executed], ledger.units, at, timedelta(minutes=5))
            for _ in range(2)
        )
    )
    assert again == [[Outcome.DUPLICATE], [Outcome.DUPLICATE]]
    later = Clock(lambda: NOW + timedelta(hours=97))
    assert await unwind_unmatched(ledger.units, later, timedelta(hours=96)) == 1
    assert await unwind_unmatched(ledger.units, later, timedelta(hours=96)) == 0
    flagged = (
        "SELECT count(*) FROM payment_announcements WHERE status = 'unwound' "
        "AND unwind_reason = 'unmatched' AND settled_entry_id IS NOT NULL"
    )
    assert await count_rows(ledger.url, flagged) == 1
    assert await count_rows(ledger.url, "SELECT count(*) FROM journal_entries") == 2
    assert await count_rows(ledger.url, "SELECT count(*) FROM outbox") == 2
    checked = ledger.command("check")
    assert checked.returncode == 0, checked.stdout + checked.stderr


async def test_one_live_link_per_case_even_asked_at_once(ledger: Ledger) -> None:
    provider = FakeInitiation()

    async def ask(cents: int, purpose: str = "") -> str:
        given = await create_payment_link(
            CreatePaymentLink(CASE, cents, "EUR", "service", "messaging", purpose=purpose),
            ledger.units,
            provider,
            POLICY,
            lambda: NOW,
        )
        return given.link.link_id

    # The provider is asked outside any transaction, so concurrent first asks may each get a
    # link there: one is kept, every other one is revoked at the provider.
    same = await asyncio.gather(*(ask(90_000) for _ in range(4)))
    assert len(set(same)) == 1
    made = {f"link-{n}" for n in range(1, len(provider.created) + 1)}
    assert set(provider.revoked) == made - set(same)
    live = "SELECT count(*) FROM payment_links WHERE status = 'live'"
    assert await count_rows(ledger.url, live) == 1
    await asyncio.gather(ask(50_000), ask(70_000))
    assert await count_rows(ledger.url, live) == 1
    assert await count_rows(ledger.url, "SELECT count(*) FROM payment_links") == 3
    # An instalment's link lives beside the whole amount's, one per purpose even asked at once.
    await asyncio.gather(*(ask(20_000, "instalment") for _ in range(3)))
    assert await count_rows(ledger.url, live) == 2
    by_purpose = "SELECT count(DISTINCT purpose) FROM payment_links WHERE status = 'live'"
    assert await count_rows(ledger.url, by_purpose) == 2
