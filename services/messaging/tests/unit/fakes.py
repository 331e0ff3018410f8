"""In-memory stand-ins for messaging's unit of work, clock and Dispatcher, wired like bootstrap."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Self

from messaging.domain.case_contacts import (
    CaseContact,
    MessageStatus,
    OutgoingRecord,
    Postponement,
)
from messaging.domain.contact_limits import ContactLimits
from messaging.domain.money_announced import AnnouncedPayment, AnnouncementState
from messaging.domain.outgoing import Channel, DispatchResult, MessageToSend
from messaging.domain.plans import ANY_STRATEGY, Plan, PlanStatus, PlanTemplate
from messaging.service_layer.unit_of_work import (
    CaseContacts,
    ContactPreferences,
    OutgoingMessages,
    Plans,
    Postponements,
)
from recouvra_shared.testing import FakeUnitOfWork, PlatformTables
from services.messaging.tests.unit.debtor_fakes import (
    DebtorTables,
    FakeDebtorActions,
    FakeInstalmentPlans,
    FakePortalAttempts,
)
from services.messaging.tests.unit.thread_fakes import (
    FakeCaseHolders,
    FakeThreadMessages,
    FakeThreadNotices,
    ThreadTables,
)


@dataclass
class MessagingTables:
    """What messaging's database holds."""

    contacts: dict[str, CaseContact] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    messages: dict[str, OutgoingRecord] = field(default_factory=dict)
    retry_at: dict[str, datetime] = field(default_factory=dict)
    postponements: list[Postponement] = field(default_factory=list)
    templates: dict[tuple[str, str, str], PlanTemplate] = field(default_factory=dict)
    limits: dict[str, ContactLimits] = field(default_factory=dict)
    refused: dict[str, set[Channel]] = field(default_factory=dict)
    debtor: DebtorTables = field(default_factory=DebtorTables)
    thread: ThreadTables = field(default_factory=ThreadTables)
    announced: dict[str, AnnouncedPayment] = field(default_factory=dict)


class FakeAnnouncedPayments:
    def __init__(self, rows: dict[str, AnnouncedPayment]) -> None:
        self.rows = rows

    async def get(self, announcement_id: str) -> AnnouncedPayment | None:
        return self.rows.get(announcement_id)

    async def add(self, payment: AnnouncedPayment) -> bool:
        if payment.announcement_id in self.rows:
            return False
        self.rows[payment.announcement_id] = payment
        return True

    async def save(self, payment: AnnouncedPayment) -> None:
        self.rows[payment.announcement_id] = payment

    async def pending_of_case(self, case_id: str) -> list[AnnouncedPayment]:
        waiting = [
            p
            for p in self.rows.values()
            if p.case_id == case_id and p.state is AnnouncementState.PENDING
        ]
        return sorted(waiting, key=lambda p: (p.announced_at, p.announcement_id))


class FakeContacts:
    def __init__(self, tables: MessagingTables) -> None:
        self.tables = tables

    async def get(self, case_id: str) -> CaseContact | None:
        return self.tables.contacts.get(case_id)

    async def save(self, contact: CaseContact) -> None:
        self.tables.contacts[contact.case_id] = contact


class FakePlans:
    def __init__(self, tables: MessagingTables) -> None:
        self.tables = tables

    async def add(self, plan: Plan) -> None:
        self.tables.plans[plan.plan_id] = plan

    async def save(self, plan: Plan) -> None:
        self.tables.plans[plan.plan_id] = plan

    async def of_case(self, case_id: str) -> list[Plan]:
        found = [p for p in self.tables.plans.values() if p.case_id == case_id]
        return sorted(found, key=lambda p: (p.round, p.started_at))

    async def next_due(self, now: datetime) -> Plan | None:
        due = [
            p
            for p in self.tables.plans.values()
            if p.due_at is not None
            and p.due_at <= now
            and p.status in (PlanStatus.ACTIVE, PlanStatus.PAUSED)
        ]
        return min(due, key=lambda p: p.due_at or now) if due else None


class FakeMessages:
    def __init__(self, tables: MessagingTables) -> None:
        self.tables = tables

    async def add(self, record: OutgoingRecord, retry_at: datetime) -> None:
        self.tables.messages[record.message_id] = record
        self.tables.retry_at[record.message_id] = retry_at

    async def get(self, message_id: str) -> OutgoingRecord | None:
        return self.tables.messages.get(message_id)

    async def finish(self, message_id: str, result: DispatchResult) -> None:
        record = self.tables.messages[message_id]
        status = MessageStatus.SENT if result.sent else MessageStatus.NOT_SENT
        self.tables.messages[message_id] = replace(
            record,
            status=status,
            channel_reference=result.channel_reference,
            reason=result.reason or record.reason,
        )

    async def contacts_of(self, debtor: str, since: datetime) -> list[datetime]:
        return sorted(
            r.scheduled_at
            for r in self.tables.messages.values()
            if r.debtor == debtor and r.scheduled_at >= since
        )

    async def claim_pending(self, now: datetime, lease: timedelta) -> OutgoingRecord | None:
        for record in self.tables.messages.values():
            if (
                record.status is MessageStatus.PENDING
                and self.tables.retry_at[record.message_id] <= now
            ):
                self.tables.retry_at[record.message_id] = now + lease
                claimed = replace(record, attempts=record.attempts + 1)
                self.tables.messages[record.message_id] = claimed
                return claimed
        return None


class FakePostponements:
    def __init__(self, tables: MessagingTables) -> None:
        self.tables = tables

    async def add(self, postponement: Postponement) -> None:
        self.tables.postponements.append(postponement)

    async def of_creditor(self, creditor_id: str, case_id: str = "") -> list[Postponement]:
        return [
            p
            for p in self.tables.postponements
            if p.creditor_id == creditor_id and (not case_id or p.case_id == case_id)
        ]


class FakePreferences:
    def __init__(self, tables: MessagingTables) -> None:
        self.tables = tables

    async def template(self, owner_kind: str, owner_id: str, strategy: str) -> PlanTemplate | None:
        templates = self.tables.templates
        return templates.get((owner_kind, owner_id, strategy)) or templates.get(
            (owner_kind, owner_id, ANY_STRATEGY)
        )

    async def set_template(
        self, owner_kind: str, owner_id: str, strategy: str, template: PlanTemplate | None
    ) -> None:
        if template is None:
            self.tables.templates.pop((owner_kind, owner_id, strategy), None)
        else:
            self.tables.templates[(owner_kind, owner_id, strategy)] = template

    async def limits(self, creditor_id: str) -> ContactLimits | None:
        return self.tables.limits.get(creditor_id)

    async def set_limits(self, creditor_id: str, limits: ContactLimits | None) -> None:
        if limits is None:
            self.tables.limits.pop(creditor_id, None)
        else:
            self.tables.limits[creditor_id] = limits

    async def refused_channels(self, debtor: str) -> frozenset[Channel]:
        return frozenset(self.tables.refused.get(debtor, set()))

    async def refuse_channel(self, debtor: str, channel: Channel, at: datetime) -> None:
        self.tables.refused.setdefault(debtor, set()).add(channel)


class FakeMessagingUnitOfWork(FakeUnitOfWork):
    """Messaging's unit of work in memory: changes kept only on commit."""

    contacts: CaseContacts
    plans: Plans
    messages: OutgoingMessages
    postponements: Postponements
    preferences: ContactPreferences

    def __init__(self, tables: MessagingTables, platform: PlatformTables | None = None) -> None:
        super().__init__(platform)
        self.saved = tables
        self.work = tables
        self.locked: list[str] = []

    async def __aenter__(self) -> Self:
        await super().__aenter__()
        self.work = copy.deepcopy(self.saved)
        self.contacts = FakeContacts(self.work)
        self.plans = FakePlans(self.work)
        self.messages = FakeMessages(self.work)
        self.postponements = FakePostponements(self.work)
        self.preferences = FakePreferences(self.work)
        self.debtor_actions = FakeDebtorActions(self.work.debtor)
        self.instalments = FakeInstalmentPlans(self.work.debtor)
        self.portal_attempts = FakePortalAttempts(self.work.debtor)
        self.holders = FakeCaseHolders(self.work.thread)
        self.thread = FakeThreadMessages(self.work.thread)
        self.thread_notices = FakeThreadNotices(self.work.thread)
        self.announced = FakeAnnouncedPayments(self.work.announced)
        return self

    async def lock_debtor(self, debtor: str) -> None:
        self.locked.append(debtor)

    def commit_changes(self) -> None:
        self.saved.__dict__.update(self.work.__dict__)

    def discard_changes(self) -> None:
        self.work = self.saved


class Units:
    """The factory bootstrap would give: every unit of work on the same tables."""

    def __init__(self) -> None:
        self.tables = MessagingTables()
        self.platform = PlatformTables()

    def __call__(self) -> FakeMessagingUnitOfWork:
        return FakeMessagingUnitOfWork(self.tables, self.platform)


class TestClock:
    """A clock the test moves."""

    __test__ = False

    def __init__(self, now: datetime) -> None:
        self.moment = now

    def now(self) -> datetime:
        return self.moment

    def advance(self, delta: timedelta) -> None:
        self.moment += delta


class RecordingDispatcher:
    """Records every message handed to it; sends each id once, as the real one dedupes."""

    def __init__(
        self,
        *,
        fail_first: int = 0,
        crash_after_send: int = 0,
        under_way_first: int = 0,
        outcome_fails: int = 0,
    ) -> None:
        self.calls: list[MessageToSend] = []
        self.asked: list[str] = []  # the message ids `outcome` was asked about
        # `outcome` raises this many times first (the vault does not take the letter's evidence).
        self.outcome_fails = outcome_fails
        self.sent_at: dict[str, datetime] = {}
        self.fail_first = fail_first
        # Sends, then fails before answering (its record never hears of it).
        self.crash_after_send = crash_after_send
        # Answers that an earlier attempt may still be sending it (its lease not run out).
        self.under_way_first = under_way_first
        self.clock: TestClock | None = None

    async def dispatch(self, message: MessageToSend) -> DispatchResult:
        self.calls.append(message)
        if self.fail_first > 0:
            self.fail_first -= 1
            raise ConnectionError("channel down")
        if self.under_way_first > 0:
            self.under_way_first -= 1
            return DispatchResult(sent=False, reason="under way", under_way=True)
        if message.message_id not in self.sent_at and self.clock is not None:
            self.sent_at[message.message_id] = self.clock.now()
        if self.crash_after_send > 0:
            self.crash_after_send -= 1
            raise ConnectionError("connection reset after sending")
        return DispatchResult(sent=True, channel_reference=f"<{message.message_id}@test>")

    async def outcome(self, message_id: str, channel: Channel) -> DispatchResult | None:
        self.asked.append(message_id)
        if self.outcome_fails > 0:
            self.outcome_fails -= 1
            raise ConnectionError("vault: unavailable")
        if message_id not in self.sent_at:
            return None
        return DispatchResult(sent=True, channel_reference=f"<{message_id}@test>")

    @property
    def sent_ids(self) -> list[str]:
        return list(dict.fromkeys(m.message_id for m in self.calls))
