"""In-memory stand-ins for the case thread's repositories (service_layer/thread_ports.py), the
vault's documents, the parties' addresses and the notice mailer."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from messaging.domain.holdings import Holding
from messaging.domain.thread import ThreadMessage, ThreadParty
from messaging.domain.thread_notices import NoticeState, ThreadNotice
from messaging.service_layer.thread_ports import CaseDocument


@dataclass
class ThreadTables:
    """What the thread's tables hold."""

    holders: dict[str, Holding] = field(default_factory=dict)
    messages: list[ThreadMessage] = field(default_factory=list)
    notices: dict[str, ThreadNotice] = field(default_factory=dict)
    retry_at: dict[str, datetime] = field(default_factory=dict)


class FakeCaseHolders:
    def __init__(self, tables: ThreadTables) -> None:
        self.tables = tables

    async def current(self, case_id: str) -> Holding | None:
        return self.tables.holders.get(case_id)

    async def assigned(self, holding: Holding) -> None:
        now = self.tables.holders.get(holding.case_id)
        if now is None or now.round <= holding.round:
            self.tables.holders[holding.case_id] = holding

    async def ended(self, case_id: str, holder_id: str, round: int) -> None:
        now = self.tables.holders.get(case_id)
        if now is not None and now.holder_id == holder_id and now.round <= round:
            del self.tables.holders[case_id]

    async def ended_all(self, case_id: str) -> None:
        self.tables.holders.pop(case_id, None)


class FakeThreadMessages:
    def __init__(self, tables: ThreadTables) -> None:
        self.tables = tables

    async def add(self, message: ThreadMessage) -> None:
        self.tables.messages.append(message)

    async def of_case(self, case_id: str) -> list[ThreadMessage]:
        return [m for m in self.tables.messages if m.case_id == case_id]


class FakeThreadNotices:
    def __init__(self, tables: ThreadTables) -> None:
        self.tables = tables

    async def add(self, notice: ThreadNotice) -> None:
        self.tables.notices[notice.notice_id] = notice
        self.tables.retry_at[notice.notice_id] = notice.created_at

    async def claim(self, now: datetime, lease: timedelta) -> ThreadNotice | None:
        for notice in self.tables.notices.values():
            if (
                notice.state is NoticeState.PENDING
                and self.tables.retry_at[notice.notice_id] <= now
            ):
                claimed = replace(notice, attempts=notice.attempts + 1)
                self.tables.notices[notice.notice_id] = claimed
                self.tables.retry_at[notice.notice_id] = now + lease
                return claimed
        return None

    async def finish(
        self, notice_id: str, state: NoticeState, at: datetime, duplicates: int = 0
    ) -> None:
        notice = self.tables.notices[notice_id]
        sent_at = at if state is NoticeState.SENT else None
        self.tables.notices[notice_id] = replace(
            notice, state=state, sent_at=sent_at, duplicates=duplicates
        )

    async def of_message(self, message_id: str) -> list[ThreadNotice]:
        found = [n for n in self.tables.notices.values() if n.message_id == message_id]
        return sorted(found, key=lambda n: n.party.value)


class FakeVault:
    """The vault's documents per case."""

    def __init__(self) -> None:
        self.documents: dict[str, list[CaseDocument]] = {}

    def keep(
        self,
        case_id: str,
        document_id: str,
        tenant_id: str,
        *,
        shareable: bool = False,
        shredded: bool = False,
    ) -> str:
        self.documents.setdefault(case_id, []).append(
            CaseDocument(document_id, tenant_id, shredded=shredded, shareable=shareable)
        )
        return document_id

    async def documents_of(self, case_id: str) -> list[CaseDocument]:
        return list(self.documents.get(case_id, []))


class FakeAddresses:
    """E-mail addresses by (party, party id)."""

    def __init__(self, known: dict[tuple[ThreadParty, str], str]) -> None:
        self.known = known

    async def email(self, case_id: str, party: ThreadParty, party_id: str) -> str:
        return self.known.get((party, party_id), "")


class RecordingMailer:
    """Every notice sent, with its address; its log is what it sent (plus `delivered`, copies
    that arrived though their sender died before recording them)."""

    def __init__(self) -> None:
        self.sent: list[tuple[ThreadNotice, str]] = []
        self.delivered: list[str] = []

    async def send(self, notice: ThreadNotice, address: str) -> None:
        self.sent.append((notice, address))

    async def copies(self, notice: ThreadNotice) -> int:
        return self.delivered.count(notice.notice_id) + sum(
            1 for sent, _ in self.sent if sent.notice_id == notice.notice_id
        )
