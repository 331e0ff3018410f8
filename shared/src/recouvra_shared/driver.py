"""A unit of work whose statements go to asyncpg itself, for a hot path that publishes nothing.

SQLAlchemy's session is the platform's unit of work (`recouvra_shared.db.UnitOfWork`). For a
unit of work of one or two fixed statements it is most of the cost: at 500 of scoring's `Score`
calls a second most batches hold one call, and a batch of one cost 1.1 ms of the service's CPU
through the session against 0.65 ms with the same statements on the driver (docs/performance.md,
"Session 22"). Here a connection is taken from the service's own pool, as a session would take
it (the pool's idle ping included), and the statements are compiled once from the same
SQLAlchemy expressions, so the SQL sent is the one the session would send. No outbox: a unit of
work that publishes events is a `UnitOfWork`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, cast

import asyncpg  # type: ignore[import-untyped]
from opentelemetry.trace import Status, StatusCode
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from recouvra_shared.db import start_statement_span

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


def _processor(bind: BindParameter[Any] | None) -> Any:
    """How SQLAlchemy converts a value of that parameter for asyncpg (JSON written as text)."""
    if bind is None:
        return None
    return bind.type.dialect_impl(_DIALECT).bind_processor(_DIALECT)


class DriverStatement:
    """A SQLAlchemy statement compiled once to asyncpg's text: the casts, the constants and
    the expanded IN lists SQLAlchemy would send; its values bound by name, each converted as
    SQLAlchemy converts it. `columns` compiles an INSERT of those columns, one row per set of
    values, without the RETURNING a single-row INSERT would get."""

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        compiled = cast(
            SQLCompiler,
            statement.compile(
                dialect=_DIALECT, column_keys=columns, for_executemany=columns is not None
            ),
        )
        state = compiled.construct_expanded_state(
            {name: None for name, bind in compiled.binds.items() if bind.required}
        )
        assert state.positiontup is not None, "asyncpg's parameters are positional"
        self.text: str = state.statement
        self._constants = state.parameters
        # Each positional parameter's name and how its value is converted, in order.
        self._plan = [
            (name, state.processors.get(name) or _processor(compiled.binds.get(name)))
            for name in state.positiontup
        ]

    def args(self, values: Mapping[str, Any]) -> list[Any]:
        """The statement's positional arguments: `values` by name, the rest its constants."""
        arguments = []
        for name, process in self._plan:
            value = values[name] if name in values else self._constants[name]
            arguments.append(value if process is None or value is None else process(value))
        return arguments


@contextlib.contextmanager
def _traced(statement: DriverStatement) -> Iterator[None]:
    span = start_statement_span(statement.text)
    try:
        yield
    except BaseException as error:
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        raise
    finally:
        if span is not None:
            span.end()


class DriverUnitOfWork:
    """A unit of work on a connection of the service's pool, its statements sent to asyncpg.

    Reads run at once, each seeing what was committed when it started, as in a READ COMMITTED
    transaction. Writes wait for the commit and leave there together, all or none: one
    statement alone (asyncpg runs all its rows in one implicit transaction), several in one
    transaction. So a unit of work that does not commit changes nothing, and one that reads
    and then writes once pays no BEGIN and no COMMIT round trip (95 us of the service's CPU
    per unit of work, measured for scoring's quotes). A read does not see this unit's own
    writes: a use case that needs to, or that locks rows, is a `UnitOfWork`. A connection
    that broke meanwhile leaves the pool.
    """

    connection: asyncpg.Connection

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._writes: list[tuple[DriverStatement, list[list[Any]]]] = []

    async def __aenter__(self) -> Self:
        self._pooled: AsyncConnection = await self._engine.connect()
        try:
            raw = (await self._pooled.get_raw_connection()).driver_connection
            assert isinstance(raw, asyncpg.Connection), "the service's pool is asyncpg's"
            self.connection = raw
        except BaseException:
            await self._release()
            raise
        return self

    async def fetch(self, statement: DriverStatement, **values: Any) -> list[asyncpg.Record]:
        """The rows of one statement."""
        with _traced(statement):
            rows: list[asyncpg.Record] = await self.connection.fetch(
                statement.text, *statement.args(values)
            )
            return rows

    def write(self, statement: DriverStatement, rows: Iterable[Mapping[str, Any]]) -> None:
        """The statement once for each set of values, sent at the commit."""
        self._writes.append((statement, [statement.args(row) for row in rows]))

    async def commit(self) -> None:
        """Send the writes, all or none."""
        writes, self._writes = self._writes, []
        if len(writes) > 1:
            async with self.connection.transaction():
                await self._send(writes)
        else:
            await self._send(writes)

    async def _send(self, writes: list[tuple[DriverStatement, list[list[Any]]]]) -> None:
        for statement, arguments in writes:
            with _traced(statement):
                await self.connection.executemany(statement.text, arguments)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._release()  # writes not committed are dropped

    async def _release(self) -> None:
        """Back to the pool; a connection asyncpg closed (the server went away) is dropped."""
        raw = getattr(self, "connection", None)
        if raw is not None and raw.is_closed():
            await self._pooled.invalidate()
        await self._pooled.close()
