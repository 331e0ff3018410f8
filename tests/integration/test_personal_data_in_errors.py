"""A failing statement's personal data reaches neither the logs nor the dead letters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from recouvra.events.v1.case_events_pb2 import CaseWithdrawn
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database, UnitOfWork
from recouvra_shared.db_roles import quote_identifier
from recouvra_shared.events import new_event
from recouvra_shared.inbox import InboxConsumer, Subscription
from recouvra_shared.settings import ServiceSettings
from tests.support.databases import ServiceDatabase, plain

pytestmark = pytest.mark.integration

EMAIL = "jeanne.martin@exemple.fr"


class CapturingBroker:
    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []

    async def publish(self, body: bytes, topic: str, *, key: Any, headers: dict[str, str]) -> None:
        self.headers.append(headers)


async def test_a_duplicate_key_error_names_the_rule_not_the_debtor(
    make_service_database: Callable[..., ServiceDatabase], caplog: pytest.LogCaptureFixture
) -> None:
    db = make_service_database("settlement")
    owner = await asyncpg.connect(plain(db.owner_url))  # tables are the schema owner's to make
    try:
        await owner.execute("CREATE TABLE debtor_probe (email text UNIQUE)")
        await owner.execute(f"GRANT SELECT, INSERT ON debtor_probe TO {quote_identifier(db.role)}")
    finally:
        await owner.close()
    database = Database.connect(db.url)
    async with database.unit_of_work() as uow:
        await uow.session.execute(text("INSERT INTO debtor_probe VALUES (:e)"), {"e": EMAIL})
        await uow.commit()

    async def insert_again(event: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork) -> None:
        await uow.session.execute(text("INSERT INTO debtor_probe VALUES (:e)"), {"e": EMAIL})

    settings = ServiceSettings(
        consumer_max_attempts=2,
        consumer_backoff_initial_seconds=0.001,
        consumer_backoff_max_seconds=0.002,
    )
    broker = CapturingBroker()
    consumer = InboxConsumer(
        Subscription("intake.case-withdrawn.v1", "probe", CaseWithdrawn, insert_again),
        database.unit_of_work,
        broker,  # type: ignore[arg-type]
        settings,
    )
    raw = new_event(
        producer="intake",
        event_type="case-withdrawn",
        version=1,
        case_id="case-1",
        tenant_id="creditor-1",
        payload=CaseWithdrawn(case_id="case-1"),
    ).envelope.SerializeToString()
    try:
        with caplog.at_level(logging.DEBUG):
            assert await consumer.process(raw, b"case-1", 0, 1) == "dead-lettered"
        async with database.unit_of_work() as uow:
            recorded = (await uow.session.execute(text("SELECT error FROM dead_letters"))).scalar()
    finally:
        await database.dispose()
    [headers] = broker.headers
    assert "UniqueViolation" in headers["x-error"]  # the rule it broke is still said
    for where in (headers["x-error"], recorded, caplog.text):
        assert EMAIL not in where
        assert "jeanne" not in where.lower()
