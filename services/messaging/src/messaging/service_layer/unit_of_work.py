"""What messaging's use cases need from storage: a transaction, the outbox, a commit, and the
repositories the unit of work owns (`uow.sent` for the sent-once records, `uow.suppressions` for
addresses that bounced)."""

from __future__ import annotations

from typing import Protocol

from messaging.domain.outgoing import DispatchResult, MessageToSend
from messaging.domain.sent_once import SendRecord
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


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


class Dispatcher(Protocol):
    """Composes a message from its template and the case's facts and sends it on its channel.

    Called by the contact plan when a step is due and allowed; must be safe to call again with the
    same message id after a crash (it sends at most once more, and says so).
    """

    async def dispatch(self, message: MessageToSend) -> DispatchResult: ...
