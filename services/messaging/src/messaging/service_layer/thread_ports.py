"""What the case thread and the holder's rights need: storage (`uow.holders`, `uow.thread`,
`uow.thread_notices`) and outside sources (the vault's documents of a case, the parties' e-mail
addresses, the mailer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from messaging.domain.holdings import Holding
from messaging.domain.thread import ThreadMessage, ThreadParty
from messaging.domain.thread_notices import NoticeState, ThreadNotice


class CaseHolders(Protocol):
    """The holder of each case now, from matching's facts."""

    async def current(self, case_id: str) -> Holding | None: ...

    async def assigned(self, holding: Holding) -> None:
        """The case's holder from this round on (an older round's assignment changes nothing)."""
        ...

    async def ended(self, case_id: str, holder_id: str, round: int) -> None:
        """That holding is over (nothing when a later one replaced it already)."""
        ...

    async def ended_all(self, case_id: str) -> None: ...


class ThreadMessages(Protocol):
    """The messages of each case's thread."""

    async def add(self, message: ThreadMessage) -> None: ...

    async def of_case(self, case_id: str) -> list[ThreadMessage]:
        """Oldest first."""
        ...


class ThreadNotices(Protocol):
    """The e-mails telling parties of a message, recorded before they are sent."""

    async def add(self, notice: ThreadNotice) -> None: ...

    async def claim(self, now: datetime, lease: timedelta) -> ThreadNotice | None:
        """One pending notice not leased now, leased again (attempts + 1), locked for this
        transaction and skipped by others."""
        ...

    async def finish(
        self, notice_id: str, state: NoticeState, at: datetime, duplicates: int = 0
    ) -> None: ...

    async def of_message(self, message_id: str) -> list[ThreadNotice]: ...


@dataclass(frozen=True)
class CaseDocument:
    """A document the vault keeps for a case."""

    document_id: str
    tenant_id: str
    shredded: bool
    shareable: bool


class CaseDocumentsSource(Protocol):
    """The vault's documents of a case (read as messaging, which may list them all)."""

    async def documents_of(self, case_id: str) -> list[CaseDocument]: ...


class PartyAddresses(Protocol):
    """Where a party reads its e-mail; "" when none is known."""

    async def email(self, case_id: str, party: ThreadParty, party_id: str) -> str: ...


class NoticeMailer(Protocol):
    """Sends one notice; its id is the Message-ID, which the mail system's log can be asked for."""

    async def send(self, notice: ThreadNotice, address: str) -> None: ...

    async def copies(self, notice: ThreadNotice) -> int:
        """How many copies of the notice the mail system holds."""
        ...
