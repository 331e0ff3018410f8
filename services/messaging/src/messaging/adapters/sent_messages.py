"""The sent-once records and the suppressed addresses on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.orm import sent_messages, suppressed_addresses
from messaging.domain.sent_once import SendRecord, SendState


class SqlSendRecords:
    """`SendRecords` on the sent_messages table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, message_id: str) -> SendRecord | None:
        """The record of a message, if it was ever attempted."""
        row = (
            await self.session.execute(
                select(sent_messages).where(sent_messages.c.message_id == message_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return SendRecord(
            message_id=row.message_id,
            case_id=row.case_id,
            channel=row.channel,
            recipient=row.recipient,
            state=SendState(row.state),
            attempts=row.attempts,
            duplicates=row.duplicates,
            channel_reference=row.channel_reference,
            reason=row.reason,
            updated_at=row.updated_at,
        )

    async def save(self, record: SendRecord) -> None:
        """Insert or replace the record."""
        values = _values(record)
        statement = insert(sent_messages).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[sent_messages.c.message_id],
                set_={k: v for k, v in values.items() if k != "message_id"},
            )
        )

    async def claim(self, record: SendRecord, previous_attempts: int) -> bool:
        """Insert the record if it is new, or move it on from `previous_attempts`; False when
        another transaction did first (its row is there, or its attempt was counted)."""
        values = _values(record)
        if previous_attempts == 0:
            inserted = await self.session.execute(
                insert(sent_messages)
                .values(values)
                .on_conflict_do_nothing()
                .returning(sent_messages.c.message_id)
            )
            if inserted.first() is not None:
                return True
        moved = await self.session.execute(
            update(sent_messages)
            .where(
                sent_messages.c.message_id == record.message_id,
                sent_messages.c.attempts == previous_attempts,
                sent_messages.c.state == SendState.SENDING.value,
            )
            .values({k: v for k, v in values.items() if k != "message_id"})
            .returning(sent_messages.c.message_id)
        )
        return moved.first() is not None

    async def duplicates(self) -> int:
        """Every duplicate found so far, across messages."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(sent_messages.c.duplicates), 0))
        )
        return int(total or 0)


class SqlSuppressions:
    """`Suppressions` on the suppressed_addresses table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_suppressed(self, channel: str, address: str) -> bool:
        """Whether this address is suppressed on this channel (case-insensitive)."""
        found = await self.session.scalar(
            select(func.count()).where(
                suppressed_addresses.c.channel == channel,
                suppressed_addresses.c.address == address.strip().lower(),
            )
        )
        return bool(found)

    async def suppress(self, channel: str, address: str, reason: str) -> None:
        """Suppress the address; the first reason stays."""
        await self.session.execute(
            insert(suppressed_addresses)
            .values(
                channel=channel,
                address=address.strip().lower(),
                reason=reason,
                suppressed_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )


def _values(record: SendRecord) -> dict[str, object]:
    return {
        "message_id": record.message_id,
        "case_id": record.case_id,
        "channel": record.channel,
        "recipient": record.recipient,
        "state": record.state.value,
        "attempts": record.attempts,
        "duplicates": record.duplicates,
        "channel_reference": record.channel_reference,
        "reason": record.reason,
        "updated_at": record.updated_at,
    }
