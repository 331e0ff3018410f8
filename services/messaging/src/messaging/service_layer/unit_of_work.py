"""What messaging's use cases need from storage: a transaction, the outbox, a commit.

Each table messaging has comes with its repository protocol here (or in a `*_ports.py` beside
it: `webhook_ports.py`), and the unit of work has a property for it: `uow.sent` for the
sent-once records, `uow.suppressions` for addresses that bounced, the plans' tables, webhooks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol

from messaging.domain.case_contacts import CaseContact, OutgoingRecord, Postponement
from messaging.domain.contact_limits import ContactLimits
from messaging.domain.outgoing import Channel, DispatchResult, MessageToSend
from messaging.domain.plans import Plan, PlanTemplate
from messaging.domain.sent_once import SendRecord
from messaging.service_layer.debtor_ports import DebtorActions, InstalmentPlans, PortalAttempts
from messaging.service_layer.money_ports import AnnouncedPayments
from messaging.service_layer.thread_ports import CaseHolders, ThreadMessages, ThreadNotices
from messaging.service_layer.webhook_ports import WebhookRepository
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class CaseContacts(Protocol):
    """What messaging knows of each case (creditor, debtor key, region, strategy)."""

    async def get(self, case_id: str) -> CaseContact | None: ...

    async def save(self, contact: CaseContact) -> None: ...


class Plans(Protocol):
    """The contact plans, one per holding; `due_at` is each plan's durable timer."""

    async def add(self, plan: Plan) -> None: ...

    async def save(self, plan: Plan) -> None: ...

    async def of_case(self, case_id: str) -> list[Plan]: ...

    async def next_due(self, now: datetime) -> Plan | None:
        """One plan whose timer is due, locked for this transaction and skipped by others."""
        ...


class OutgoingMessages(Protocol):
    """Every message the plans let go, recorded pending before the channel is called."""

    async def add(self, record: OutgoingRecord, retry_at: datetime) -> None: ...

    async def get(self, message_id: str) -> OutgoingRecord | None: ...

    async def finish(self, message_id: str, result: DispatchResult) -> None: ...

    async def contacts_of(self, debtor: str, since: datetime) -> list[datetime]:
        """When this debtor was contacted since `since`, by any case or creditor."""
        ...

    async def claim_pending(self, now: datetime, lease: timedelta) -> OutgoingRecord | None:
        """A pending message whose last dispatch is older than its lease, locked and leased
        again (a crash between dispatch and record)."""
        ...


class Postponements(Protocol):
    """Why steps went later than planned."""

    async def add(self, postponement: Postponement) -> None: ...

    async def of_creditor(self, creditor_id: str, case_id: str = "") -> list[Postponement]: ...


class ContactPreferences(Protocol):
    """Plan overrides per creditor and provider, creditors' stricter limits, debtors' opt-outs."""

    async def template(self, owner_kind: str, owner_id: str, strategy: str) -> PlanTemplate | None:
        """The owner's template for the strategy, else its template for any strategy."""
        ...

    async def set_template(
        self, owner_kind: str, owner_id: str, strategy: str, template: PlanTemplate | None
    ) -> None: ...

    async def limits(self, creditor_id: str) -> ContactLimits | None: ...

    async def set_limits(self, creditor_id: str, limits: ContactLimits | None) -> None: ...

    async def refused_channels(self, debtor: str) -> frozenset[Channel]: ...

    async def refuse_channel(self, debtor: str, channel: Channel, at: datetime) -> None: ...


class SendRecords(Protocol):
    """Each outgoing message's record, by message id."""

    async def get(self, message_id: str) -> SendRecord | None: ...

    async def save(self, record: SendRecord) -> None: ...

    async def claim(self, record: SendRecord, previous_attempts: int) -> bool:
        """Record one more attempt only if nobody else did since `previous_attempts` was read
        (a new record: only if none exists); False when another dispatch got there first."""
        ...

    async def duplicates(self) -> int: ...


class Suppressions(Protocol):
    """Addresses no message may be sent to (a bounce said they do not exist)."""

    async def is_suppressed(self, channel: str, address: str) -> bool: ...

    async def suppress(self, channel: str, address: str, reason: str) -> None: ...


class MessagingUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over messaging's tables; the only thing that commits."""

    @property
    def sent(self) -> SendRecords: ...

    @property
    def suppressions(self) -> Suppressions: ...

    @property
    def webhooks(self) -> WebhookRepository: ...

    contacts: CaseContacts
    plans: Plans
    messages: OutgoingMessages
    postponements: Postponements
    preferences: ContactPreferences
    debtor_actions: DebtorActions
    instalments: InstalmentPlans
    portal_attempts: PortalAttempts
    announced: AnnouncedPayments
    holders: CaseHolders
    thread: ThreadMessages
    thread_notices: ThreadNotices

    async def lock_debtor(self, debtor: str) -> None:
        """Hold this debtor's lock until the transaction ends: its caps are checked and used
        by one plan at a time, whichever replica fires it."""
        ...


class Holidays(Protocol):
    """Whether a day is a public holiday."""

    def __call__(self, day: date) -> bool: ...


class Dispatcher(Protocol):
    """Composes a message from its template and the case's facts and sends it on its channel.

    Called by the contact plan when a step is due and allowed; must be safe to call again with the
    same message id after a crash (it sends at most once more, and says so).
    """

    async def dispatch(self, message: MessageToSend) -> DispatchResult: ...

    async def outcome(self, message_id: str, channel: Channel) -> DispatchResult | None:
        """What became of an earlier dispatch of this message, sending nothing: its recorded
        result, or sent when the channel holds a copy of an attempt cut off before its record;
        None when no attempt reached the channel."""
        ...
