"""On a real service database: the outbox row a traced request writes keeps its trace context,
and each SQL statement run inside a trace is a span of it (its text, never its values), whether
the session or the driver sends it, while statements outside any trace (the relay's polling)
make none."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import replace

import asyncpg  # type: ignore[import-untyped]
import pytest
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id
from sqlalchemy import bindparam, func, insert, select, text

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra_shared.db import Database, inbox, outbox, outbox_rows
from recouvra_shared.driver import DriverStatement, DriverUnitOfWork
from recouvra_shared.events import new_event
from recouvra_shared.tracing import span
from recouvra_shared.unit_of_work import OutgoingEvent
from tests.support.spans import recorded_spans

pytestmark = pytest.mark.integration

SECRET = "FR7630006000011234567890189"  # a value bound to a statement: never in a span


async def test_a_traced_request_keeps_its_trace_in_the_outbox_row_and_spans_its_statements(
    make_database: Callable[[str], str],
) -> None:
    spans = recorded_spans()
    database = Database.connect(make_database("intake"))
    try:
        async with database.unit_of_work() as uow:
            with span("POST /v1/cases", SpanKind.SERVER) as request:
                await uow.publish(
                    new_event(
                        producer="intake",
                        event_type="case-withdrawn",
                        version=1,
                        case_id="c-1",
                        tenant_id="t-1",
                        payload=CaseWithdrawn(case_id="c-1"),
                    )
                )
                await uow.session.execute(
                    text("SELECT count(*) FROM outbox WHERE key = :key"), {"key": SECRET}
                )
            await uow.commit()
        async with database.unit_of_work() as uow:  # outside any trace, as the relay polls
            headers = (await uow.session.execute(text("SELECT headers FROM outbox"))).scalar_one()
    finally:
        await database.dispose()

    context = request.get_span_context()
    trace_id, request_id = format_trace_id(context.trace_id), format_span_id(context.span_id)
    assert headers["traceparent"].split("-")[1:3] == [trace_id, request_id]
    assert headers["event-type"] == "case-withdrawn"

    statements = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    texts = [str(dict(s.attributes or {})["db.query.text"]) for s in statements]
    assert [t.split()[0] for t in texts] == ["INSERT", "SELECT"], texts
    assert "outbox" in texts[0]
    for statement in statements:
        assert statement.parent is not None
        assert format_span_id(statement.parent.span_id) == request_id
        assert SECRET not in str(dict(statement.attributes or {}))


async def test_each_outbox_row_keeps_its_own_type_and_headers_among_many_sharing_one(
    make_database: Callable[[str], str],
) -> None:
    def withdrawal(case_id: str, event_type: str = "case-withdrawn") -> OutgoingEvent:
        return new_event(
            producer="intake",
            event_type=event_type,
            version=1,
            case_id=case_id,
            tenant_id="t-1",
            payload=CaseWithdrawn(case_id=case_id),
        )

    events = [withdrawal(f"c-{n}") for n in range(3)]
    events.insert(1, replace(withdrawal("c-9"), headers={"retry-of": "e-1"}))
    events.append(withdrawal("c-7", event_type="payment-declared"))
    database = Database.connect(make_database("intake"))
    try:
        async with database.unit_of_work() as uow:
            with span("import", SpanKind.SERVER):
                await uow.publish(*events)
                expected = outbox_rows(events)
            await uow.commit()
        async with database.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    text("SELECT event_id, key, payload, headers FROM outbox ORDER BY id")
                )
            ).all()
    finally:
        await database.dispose()

    assert [(r.event_id, r.key, r.payload, r.headers) for r in rows] == [
        (e["event_id"], e["key"], e["payload"], e["headers"]) for e in expected
    ]
    assert [r.headers["event-type"] for r in rows] == ["case-withdrawn"] * 4 + ["payment-declared"]
    assert [r.headers.get("retry-of") for r in rows] == [None, "e-1", None, None, None]
    assert len({r.headers["traceparent"] for r in rows}) == 1


async def test_statements_sent_on_the_driver_are_spans_of_their_trace_too(
    make_database: Callable[[str], str],
) -> None:
    spans = recorded_spans()
    count = DriverStatement(select(func.count()).where(outbox.c.key == bindparam("key")))
    claim = DriverStatement(insert(inbox), columns=["consumer", "event_id", "topic"])
    claimed = {"consumer": "c", "event_id": uuid.uuid4(), "topic": "t"}
    database = Database.connect(make_database("intake"))
    try:
        async with DriverUnitOfWork(database.engine) as uow:
            uow.write(claim, [claimed])
            await uow.commit()
        with span("Score", SpanKind.SERVER) as request:
            async with DriverUnitOfWork(database.engine) as uow:
                [[found]] = await uow.fetch(count, key=SECRET)
                uow.write(claim, [claimed])
                with contextlib.suppress(asyncpg.UniqueViolationError):
                    await uow.commit()
    finally:
        await database.dispose()

    assert found == 0
    statements = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert [s.name for s in statements] == ["SELECT", "INSERT"]  # none for the untraced claim
    request_id = format_span_id(request.get_span_context().span_id)
    for statement in statements:
        assert statement.parent is not None
        assert format_span_id(statement.parent.span_id) == request_id
        assert SECRET not in str(dict(statement.attributes or {}))
    assert [s.status.status_code for s in statements] == [StatusCode.UNSET, StatusCode.ERROR]
