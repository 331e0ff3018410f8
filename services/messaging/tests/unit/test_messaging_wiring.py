"""Messaging hands the runtime its own unit of work, the one its event handlers will receive."""

from __future__ import annotations

from messaging.adapters.unit_of_work import SqlMessagingUnitOfWork
from messaging.bootstrap import build
from messaging.config import MessagingSettings
from messaging.service_layer.unit_of_work import MessagingUnitOfWork
from recouvra_shared.db import Database
from recouvra_shared.runtime import Wiring


async def test_the_runtime_gets_messagings_own_unit_of_work() -> None:
    settings = MessagingSettings()
    database = Database.connect(settings.database_url.get_secret_value())  # connects nothing yet
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
        assert parts.unit_of_work is not None
        uow: MessagingUnitOfWork = parts.unit_of_work()
        assert isinstance(uow, SqlMessagingUnitOfWork)
    finally:
        await database.dispose()
