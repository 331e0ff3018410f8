"""Pay by link on the fakes: one live link per case and amount, money announced at once, matched
to its bank line without a second booking, unwound when rejected or never seen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from recouvra.events.v1 import settlement_events_pb2 as events
from recouvra_shared.errors import InvalidRequest, NotFound, PermissionDenied
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry
from services.settlement.tests.unit.money_in_world import (
    CASE_A,
    REF_A,
    World,
    two_invoice_case,
    unpacked,
)
from services.settlement.tests.unit.payment_link_fakes import FakeInitiation
from settlement.domain.errors import StaleNotification
from settlement.domain.payment_instructions import client_money_account
from settlement.domain.payment_links import (
    AnnouncementStatus,
    LinkStatus,
    PaymentStatus,
    StatusNotification,
    UnwindReason,
)
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

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
ACCOUNT = client_money_account("Recouvra SAS - fonds de tiers", CLIENT_MONEY_IBAN, "AGRIFRPP")
POLICY = LinkPolicy(ACCOUNT, expiry_days=30)
TOLERANCE = timedelta(minutes=5)


class Setup:
    def __init__(self) -> None:
        self.world = World()
        self.world.knows(two_invoice_case(), REF_A)
        self.provider = FakeInitiation()
        self.now = NOW
        self.ids = 0

    def clock(self) -> Clock:
        def new_id() -> str:
            self.ids += 1
            return f"00000000-0000-4000-8000-{self.ids:012d}"

        return Clock(lambda: self.now, new_id)

    async def link(self, cents: int, kind: str = "service", subject: str = "messaging"):
        return await create_payment_link(
            CreatePaymentLink(CASE_A, cents, "EUR", kind, subject),
            self.world.uow,
            self.provider,
            POLICY,
            lambda: self.now,
        )

    def notification(
        self, link_id: str, status: PaymentStatus, txn: str = "txn-1", sent_at: datetime = NOW
    ) -> StatusNotification:
        return StatusNotification(
            notification_id=f"n-{link_id}-{txn}-{status.value}-{sent_at.timestamp()}",
            kind="payment.transaction.updated",
            sent_at=sent_at,
            link_id=link_id,
            transaction_id=txn,
            end_to_end_id=REF_A,
            client_reference=REF_A,
            payment_status=status,
        )

    async def receive(self, *notifications: StatusNotification) -> list[Outcome]:
        return await receive_notifications(notifications, self.world.uow, self.clock(), TOLERANCE)

    def topics(self) -> list[str]:
        return [e.topic for e in self.world.platform.outbox]


@pytest.fixture
def setup() -> Setup:
    return Setup()


async def test_the_same_amount_gives_the_same_link_and_asks_the_provider_once(
    setup: Setup,
) -> None:
    first = await setup.link(150_000)
    again = await setup.link(150_000, kind="debtor", subject=CASE_A)
    assert first.created
    assert not again.created
    assert again.link.link_id == first.link.link_id
    assert len(setup.provider.created) == 1
    asked = setup.provider.created[0]
    # The transfer the bank pre-fills: the client-money account, under the case's RF reference.
    assert asked.reference == REF_A
    assert asked.label.startswith(REF_A)
    assert asked.beneficiary_iban == CLIENT_MONEY_IBAN
    assert asked.amount_minor == 150_000
    assert asked.expires_at == NOW + timedelta(days=30)


async def test_a_changed_amount_revokes_the_old_link_and_gives_a_new_one(setup: Setup) -> None:
    first = await setup.link(150_000)
    second = await setup.link(60_000)
    assert second.created
    assert second.replaced_link_id == first.link.link_id
    assert setup.provider.revoked == [first.link.link_id]
    links = setup.world.tables.payment_links.links
    assert links[first.link.link_id].status is LinkStatus.REPLACED
    assert links[second.link.link_id].status is LinkStatus.LIVE
    assert (await setup.link(60_000)).link.link_id == second.link.link_id


async def test_an_expired_link_is_replaced_without_revoking_it(setup: Setup) -> None:
    first = await setup.link(150_000)
    setup.now = NOW + timedelta(days=31)
    second = await setup.link(150_000)
    assert second.created
    assert second.link.link_id != first.link.link_id
    assert setup.provider.revoked == []
    links = setup.world.tables.payment_links.links
    assert links[first.link.link_id].status is LinkStatus.EXPIRED


async def test_links_are_refused_to_others_and_for_bad_amounts(setup: Setup) -> None:
    with pytest.raises(NotFound):
        await setup.link(100, kind="debtor", subject="0b7c1f2a-0000-4000-8000-0000000000ff")
    with pytest.raises(PermissionDenied):
        await setup.link(100, kind="creditor", subject="cred-1")
    with pytest.raises(PermissionDenied):
        await setup.link(100, kind="service", subject="scoring")
    with pytest.raises(InvalidRequest) as refused:
        await setup.link(0)
    assert "amount.minor_units" in str(refused.value)
    assert setup.provider.created == []


async def test_an_executed_payment_is_announced_at_once_and_once(setup: Setup) -> None:
    given = await setup.link(150_000)
    executed = setup.notification(given.link.link_id, PaymentStatus.EXECUTED)
    assert await setup.receive(executed) == [Outcome.ANNOUNCED]
    assert await setup.receive(executed) == [Outcome.DUPLICATE]
    assert await setup.world.balance("5112") == 150_000
    assert await setup.world.balance("4718") == 150_000
    # Nothing is owed to the creditor yet: the money is not in the client-money account.
    assert await setup.world.balance("4671/cred-1") == 0
    assert setup.topics() == ["settlement.payment-announced.v1"]
    told = unpacked(setup.world.platform.outbox[0].envelope.payload, events.PaymentAnnounced())
    assert (told.case_id, told.amount.minor_units, told.end_to_end_id) == (CASE_A, 150_000, REF_A)
    assert setup.world.platform.outbox[0].envelope.tenant_id == "cred-1"
    link = setup.world.tables.payment_links.links[given.link.link_id]
    assert link.status is LinkStatus.COMPLETED


async def test_a_notification_signed_outside_the_tolerance_is_refused_and_does_nothing(
    setup: Setup,
) -> None:
    given = await setup.link(150_000)
    old = setup.notification(
        given.link.link_id, PaymentStatus.EXECUTED, sent_at=NOW - timedelta(minutes=6)
    )
    with pytest.raises(StaleNotification) as refused:
        await setup.receive(old)
    assert "timestamp" in str(refused.value)
    assert setup.world.tables.payment_links.announcements == {}
    assert setup.topics() == []


async def test_a_payment_rejected_after_its_announcement_is_unwound(setup: Setup) -> None:
    given = await setup.link(150_000)
    link_id = given.link.link_id
    await setup.receive(setup.notification(link_id, PaymentStatus.EXECUTED))
    assert await setup.receive(setup.notification(link_id, PaymentStatus.REJECTED)) == [
        Outcome.UNWOUND
    ]
    assert await setup.world.balance("5112") == 0
    assert await setup.world.balance("4718") == 0
    (announcement,) = setup.world.tables.payment_links.announcements.values()
    assert announcement.status is AnnouncementStatus.UNWOUND
    assert announcement.unwind_reason is UnwindReason.REJECTED
    unwound = unpacked(
        setup.world.platform.outbox[-1].envelope.payload, events.PaymentAnnouncementUnwound()
    )
    assert unwound.reason == "rejected"


async def test_a_rejection_before_any_execution_announces_nothing(setup: Setup) -> None:
    given = await setup.link(150_000)
    notification = setup.notification(given.link.link_id, PaymentStatus.REJECTED)
    assert await setup.receive(notification) == [Outcome.IGNORED]
    assert setup.topics() == []


async def test_the_bank_line_matches_the_announcement_and_the_euro_is_counted_once(
    setup: Setup,
) -> None:
    given = await setup.link(150_000)
    await setup.receive(setup.notification(given.link.link_id, PaymentStatus.EXECUTED))
    report = await setup.world.import_entries(
        [Entry(150_000, booked_on=date(2026, 3, 2), end_to_end_id=REF_A, reference=REF_A)]
    )
    assert report.by_reference == 1
    assert len(setup.world.received()) == 1
    assert await setup.world.balance("5121") == 150_000
    assert await setup.world.balance("4671/cred-1") == 150_000
    assert await setup.world.balance("5112") == 0
    assert await setup.world.balance("4718") == 0
    (announcement,) = setup.world.tables.payment_links.announcements.values()
    assert announcement.status is AnnouncementStatus.MATCHED
    assert announcement.receipt_id == report.receipt_ids[0]
    # Nothing left to unwind, however long one waits.
    setup.now = NOW + timedelta(days=30)
    assert await unwind_unmatched(setup.world.uow, setup.clock(), timedelta(hours=96)) == 0


async def test_a_line_of_another_amount_leaves_the_announcement_waiting(setup: Setup) -> None:
    given = await setup.link(150_000)
    await setup.receive(setup.notification(given.link.link_id, PaymentStatus.EXECUTED))
    await setup.world.import_entries([Entry(10_000, end_to_end_id=REF_A, reference=REF_A)])
    (announcement,) = setup.world.tables.payment_links.announcements.values()
    assert announcement.status is AnnouncementStatus.ANNOUNCED


async def test_an_announcement_no_line_matched_in_time_is_unwound_and_flagged(
    setup: Setup,
) -> None:
    given = await setup.link(150_000)
    await setup.receive(setup.notification(given.link.link_id, PaymentStatus.EXECUTED))
    setup.now = NOW + timedelta(hours=95)
    assert await unwind_unmatched(setup.world.uow, setup.clock(), timedelta(hours=96)) == 0
    setup.now = NOW + timedelta(hours=97)
    assert await unwind_unmatched(setup.world.uow, setup.clock(), timedelta(hours=96)) == 1
    (announcement,) = setup.world.tables.payment_links.announcements.values()
    assert announcement.unwind_reason is UnwindReason.UNMATCHED
    assert await setup.world.balance("5112") == 0
    assert setup.topics()[-1] == "settlement.payment-announcement-unwound.v1"
    # The money arriving late is booked as any bank credit, once; the unwound announcement stays.
    await setup.world.import_entries([Entry(150_000, end_to_end_id=REF_A, reference=REF_A)])
    assert await setup.world.balance("4671/cred-1") == 150_000
    (still,) = setup.world.tables.payment_links.announcements.values()
    assert still.status is AnnouncementStatus.UNWOUND
