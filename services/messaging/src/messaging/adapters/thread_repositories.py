"""The case thread and the case holders on PostgreSQL (service_layer/thread_ports.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.thread_tables import case_holders, thread_messages, thread_notices
from messaging.domain.holdings import Holding
from messaging.domain.thread import ThreadMessage, ThreadParty
from messaging.domain.thread_notices import NoticeState, ThreadNotice


class SqlCaseHolders:
    """`CaseHolders` on the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def current(self, case_id: str) -> Holding | None:
        row = (
            await self.session.execute(
                select(case_holders)
                .where(case_holders.c.case_id == case_id)
                .with_for_update(read=True)  # a recall waits for what the holder is recording
            )
        ).first()
        return None if row is None else Holding(row.case_id, row.holder_id, row.round)

    async def assigned(self, holding: Holding) -> None:
        values = {
            "case_id": holding.case_id,
            "holder_id": holding.holder_id,
            "round": holding.round,
        }
        statement = insert(case_holders).values(**values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[case_holders.c.case_id],
                set_={"holder_id": statement.excluded.holder_id, "round": statement.excluded.round},
                where=case_holders.c.round <= statement.excluded.round,
            )
        )

    async def ended(self, case_id: str, holder_id: str, round: int) -> None:
        await self.session.execute(
            delete(case_holders).where(
                case_holders.c.case_id == case_id,
                case_holders.c.holder_id == holder_id,
                case_holders.c.round <= round,
            )
        )

    async def ended_all(self, case_id: str) -> None:
        await self.session.execute(delete(case_holders).where(case_holders.c.case_id == case_id))


def _message_of(row: Any) -> ThreadMessage:
    return ThreadMessage(
        message_id=str(row.message_id),
        case_id=row.case_id,
        author=ThreadParty(row.author),
        holder_id=row.holder_id,
        to=frozenset(ThreadParty(party) for party in row.recipients),
        text=row.text,
        attachment_ids=tuple(row.attachment_ids),
        written_at=row.written_at,
    )


class SqlThreadMessages:
    """`ThreadMessages` on the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, message: ThreadMessage) -> None:
        await self.session.execute(
            insert(thread_messages).values(
                message_id=message.message_id,
                case_id=message.case_id,
                author=message.author.value,
                holder_id=message.holder_id,
                recipients=sorted(party.value for party in message.to),
                text=message.text,
                attachment_ids=list(message.attachment_ids),
                written_at=message.written_at,
            )
        )

    async def of_case(self, case_id: str) -> list[ThreadMessage]:
        rows = await self.session.execute(
            select(thread_messages)
            .where(thread_messages.c.case_id == case_id)
            .order_by(thread_messages.c.written_at, thread_messages.c.message_id)
        )
        return [_message_of(row) for row in rows]


def _notice_of(row: Any) -> ThreadNotice:
    return ThreadNotice(
        notice_id=str(row.notice_id),
        message_id=str(row.message_id),
        case_id=row.case_id,
        party=ThreadParty(row.party),
        party_id=row.party_id,
        created_at=row.created_at,
        state=NoticeState(row.state),
        attempts=row.attempts,
        sent_at=row.sent_at,
        duplicates=row.duplicates,
    )


class SqlThreadNotices:
    """`ThreadNotices` on the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, notice: ThreadNotice) -> None:
        await self.session.execute(
            insert(thread_notices).values(
                notice_id=notice.notice_id,
                message_id=notice.message_id,
                case_id=notice.case_id,
                party=notice.party.value,
                party_id=notice.party_id,
                state=notice.state.value,
                attempts=notice.attempts,
                created_at=notice.created_at,
                retry_at=notice.created_at,
                sent_at=notice.sent_at,
            )
        )

    async def claim(self, now: datetime, lease: timedelta) -> ThreadNotice | None:
        due = (
            select(thread_notices.c.notice_id)
            .where(
                thread_notices.c.state == NoticeState.PENDING.value,
                thread_notices.c.retry_at <= now,
            )
            .order_by(thread_notices.c.retry_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        row = (
            await self.session.execute(
                update(thread_notices)
                .where(thread_notices.c.notice_id == due)
                .values(retry_at=now + lease, attempts=thread_notices.c.attempts + 1)
                .returning(*thread_notices.c)
            )
        ).first()
        return None if row is None else _notice_of(row)

    async def finish(
        self, notice_id: str, state: NoticeState, at: datetime, duplicates: int = 0
    ) -> None:
        await self.session.execute(
            update(thread_notices)
            .where(thread_notices.c.notice_id == notice_id)
            .values(
                state=state.value,
                sent_at=at if state is NoticeState.SENT else None,
                duplicates=duplicates,
            )
        )

    async def of_message(self, message_id: str) -> list[ThreadNotice]:
        rows = await self.session.execute(
            select(thread_notices)
            .where(thread_notices.c.message_id == message_id)
            .order_by(thread_notices.c.party)
        )
        return [_notice_of(row) for row in rows]
