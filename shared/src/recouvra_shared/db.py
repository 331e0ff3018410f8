"""SQLAlchemy 2 async engine, sessions, the platform's own tables (outbox, inbox), unit of work.

Nothing here connects at import time: `Database.connect` is called once at startup.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    insert,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from recouvra_shared.metrics import CommittedFacts
from recouvra_shared.tracing import trace_headers, tracer
from recouvra_shared.unit_of_work import OutgoingEvent

platform_metadata = MetaData()

# Events waiting to be published: written in the same transaction as the state change.
outbox = Table(
    "outbox",
    platform_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("publish_attempts", Integer, nullable=False, server_default=text("0")),
)
Index("outbox_unsent", outbox.c.id, postgresql_where=outbox.c.sent_at.is_(None))

# Events already handled, per consumer group: written in the same transaction as the effect.
inbox = Table(
    "inbox",
    platform_metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

_CLAIM_EVENTS = text(
    "INSERT INTO inbox (consumer, event_id, topic)"
    " SELECT :consumer, claimed.event_id, claimed.topic"
    " FROM unnest(CAST(:event_ids AS uuid[]), CAST(:topics AS text[])) AS claimed(event_id, topic)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)

# Every event of one publish in one statement of fixed text (prepared once per connection),
# whatever their count; the ids follow the order they were published in (the relay's order).
_PUBLISH = text(
    "INSERT INTO outbox (event_id, topic, key, payload, headers)"
    " SELECT e.event_id, e.topic, e.key, e.payload, CAST(e.headers AS jsonb)"
    " FROM unnest(CAST(:event_ids AS uuid[]), CAST(:topics AS text[]), CAST(:keys AS text[]),"
    " CAST(:payloads AS bytea[]), CAST(:headers AS text[]))"
    " WITH ORDINALITY AS e(event_id, topic, key, payload, headers, position)"
    " ORDER BY e.position"
)

# Outbox rows Kafka kept refusing (not an outage: the row itself), moved aside for operators.
outbox_dead_letters = Table(
    "outbox_dead_letters",
    platform_metadata,
    Column("id", BigInteger, primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(200), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("moved_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Messages a consumer gave up on, as sent to the dead-letter topic: for operators to inspect.
dead_letters = Table(
    "dead_letters",
    platform_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("consumer", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("event_id", String(64), nullable=True),
    Column("error", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


def outbox_rows(events: Sequence[OutgoingEvent]) -> list[dict[str, object]]:
    """The outbox rows of events: each keeps, in its headers, the trace context of the work
    recording it (`traceparent`, `tracestate`), which the relay passes on in Kafka headers."""
    traced = trace_headers()
    return [
        {
            "event_id": uuid.UUID(e.envelope.event_id),
            "topic": e.topic,
            "key": e.envelope.case_id or e.envelope.event_id,
            "payload": e.envelope.SerializeToString(deterministic=True),
            "headers": _row_headers(e, traced),
        }
        for e in events
    ]


def _row_headers(event: OutgoingEvent, traced: dict[str, str]) -> dict[str, str]:
    return {"event-type": event.envelope.event_type, **traced, **event.headers}


def _outbox_columns(events: Sequence[OutgoingEvent]) -> dict[str, list[Any]]:
    """`outbox_rows` as the columns `_PUBLISH` binds: the ids as text, the headers as JSON
    text, written once for all the events of one type without headers of their own (an
    import's thousands of events share one)."""
    traced = trace_headers()
    shared: dict[str, str] = {}
    headers = []
    for e in events:
        if e.headers:
            headers.append(json.dumps(_row_headers(e, traced)))
            continue
        event_type = e.envelope.event_type
        text = shared.get(event_type)
        if text is None:
            text = shared[event_type] = json.dumps(_row_headers(e, traced))
        headers.append(text)
    return {
        "event_ids": [e.envelope.event_id for e in events],
        "topics": [e.topic for e in events],
        "keys": [e.envelope.case_id or e.envelope.event_id for e in events],
        "payloads": [e.envelope.SerializeToString(deterministic=True) for e in events],
        "headers": headers,
    }


def start_statement_span(statement: str) -> Span | None:
    """A client span for a SQL statement run inside a trace, None outside one (the relay's and
    timers' polling would each start a trace); the statement's text, never its values."""
    if not trace.get_current_span().get_span_context().is_valid:
        return None
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    return tracer().start_span(
        operation,
        kind=SpanKind.CLIENT,
        attributes={"db.system.name": "postgresql", "db.query.text": statement},
    )


def trace_statements(engine: AsyncEngine) -> None:
    """A client span for each SQL statement the engine runs inside a trace."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def start(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if context is not None:
            context._recouvra_span = start_statement_span(statement)

    @event.listens_for(sync_engine, "after_cursor_execute")
    def end(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        span = getattr(context, "_recouvra_span", None)
        if span is not None:
            span.end()

    @event.listens_for(sync_engine, "handle_error")
    def failed(error: Any) -> None:
        span = getattr(error.execution_context, "_recouvra_span", None)
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error.original_exception).__name__))
            span.end()


# Session info key: what a commit with outbox rows calls (Database.when_outbox_written).
OUTBOX_WRITTEN = "recouvra_outbox_written"

# A pooled connection idle this long is pinged before use; one in steady use is not.
IDLE_BEFORE_PING = 1.0  # seconds


def ping_when_idle(engine: AsyncEngine, idle_before_ping: float) -> None:
    """Ping a pooled connection before handing it out only if it sat idle `idle_before_ping`
    seconds or more, instead of before every transaction (`pool_pre_ping`: one round trip and
    about 0.3 ms of the service's CPU per transaction, measured in docs/performance.md). A
    connection busy a moment ago is alive or the server just went away; then its first statement
    fails as an outage to retry, and SQLAlchemy discards every connection opened before it, so a
    restart costs one failed transaction per pool, never a run of them."""

    @event.listens_for(engine.sync_engine, "checkin")
    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_before_ping:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # the server closed it: the pool opens another one
            raise DisconnectionError("a pooled connection did not answer its ping") from exc


class Database:
    """One service's connection pool and session factory."""

    def __init__(self, engine: AsyncEngine, reads: AsyncEngine | None = None) -> None:
        self.engine = engine
        # Called once a unit of work of this process committed outbox rows (the relay wakes).
        self._outbox_written: list[Callable[[], None]] = []
        self.sessions = async_sessionmaker(
            engine, expire_on_commit=False, info={OUTBOX_WRITTEN: self._outbox_written}
        )
        self.reads = reads
        self._read_sessions = (
            None if reads is None else async_sessionmaker(reads, expire_on_commit=False)
        )

    def when_outbox_written(self, callback: Callable[[], None]) -> None:
        """Call `callback` each time a unit of work of this process commits outbox rows."""
        self._outbox_written.append(callback)

    @classmethod
    def connect(
        cls, url: str, *, pool_size: int = 10, idle_before_ping: float = IDLE_BEFORE_PING
    ) -> Database:
        """Create the pool (no connection is opened until first use)."""
        # Statement parameters carry debtors' names, e-mails and IBANs: never in logs or errors.
        engine = create_async_engine(url, pool_size=pool_size, max_overflow=5, hide_parameters=True)
        # Its own pool, opened on first use (a service that never reads this way holds none of
        # its connections): every statement is its own transaction, in sessions PostgreSQL
        # itself keeps read-only.
        reads = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=5,
            hide_parameters=True,
            isolation_level="AUTOCOMMIT",
            connect_args={"server_settings": {"default_transaction_read_only": "on"}},
        )
        for each in (engine, reads):
            ping_when_idle(each, idle_before_ping)
            trace_statements(each)
        return cls(engine, reads)

    def unit_of_work(self) -> UnitOfWork:
        """A new unit of work on this database."""
        return UnitOfWork(self.sessions)

    def reading(self) -> UnitOfWork:
        """A unit of work that only reads, for a request's checks (who is calling, is the
        session still live): no BEGIN and no ROLLBACK around its statements, one round trip
        each instead of three for a lone read. Each statement sees what was committed when it
        started, as in a READ COMMITTED transaction; PostgreSQL refuses any write in it."""
        if self._read_sessions is None:
            return self.unit_of_work()
        return UnitOfWork(self._read_sessions)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self.reads is not None:
            await self.reads.dispose()


class UnitOfWork:
    """One database transaction; the only thing that commits. Events go out through the outbox."""

    session: AsyncSession

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._committed = False
        self._published = CommittedFacts()

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        await self.session.begin()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                await self.session.rollback()
        finally:
            await self.session.close()

    async def publish(self, *events: OutgoingEvent) -> None:
        """Record events in the outbox, to leave only if this unit of work commits."""
        if not events:
            return
        self._published.add(events)
        await self.session.execute(_PUBLISH, _outbox_columns(events))

    async def claim_event(self, consumer: str, event_id: str, topic: str) -> bool:
        """Record that `consumer` handles `event_id`; False when it was already handled."""
        result = await self.session.execute(
            pg_insert(inbox)
            .values(consumer=consumer, event_id=uuid.UUID(event_id), topic=topic)
            .on_conflict_do_nothing()
            .returning(inbox.c.event_id)
        )
        return result.first() is not None

    async def claim_events(self, consumer: str, events: Sequence[tuple[str, str]]) -> set[str]:
        """Claim many (event_id, topic) at once; returns the ids not handled before.

        One statement of fixed text whatever the count (arrays unnested server-side), so it
        is prepared once per connection instead of compiled anew for each batch size.
        """
        if not events:
            return set()
        claimed = dict(events)
        result = await self.session.execute(
            _CLAIM_EVENTS,
            {
                "consumer": consumer,
                "event_ids": list(claimed),  # asyncpg encodes a UUID from its text
                "topics": list(claimed.values()),
            },
        )
        return {str(event_id) for event_id in result.scalars()}

    async def record_dead_letter(
        self,
        *,
        consumer: str,
        topic: str,
        partition: int,
        offset: int,
        event_id: str | None,
        error: str,
        attempts: int,
    ) -> None:
        """Keep a record, for operators, of a message sent to a dead-letter topic."""
        await self.session.execute(
            insert(dead_letters).values(
                consumer=consumer,
                topic=topic,
                partition=partition,
                offset=offset,
                event_id=event_id,
                error=error,
                attempts=attempts,
            )
        )

    async def commit(self) -> None:
        """Commit the transaction: state changes, outbox rows and inbox claims together."""
        await self.session.commit()
        self._committed = True
        self._published.count()
        if self._published:
            for wake in self.session.info.get(OUTBOX_WRITTEN, ()):
                wake()
        self._published = CommittedFacts()


def platform_table_names() -> Sequence[str]:
    """Names of the platform tables every service database carries."""
    return tuple(platform_metadata.tables)
