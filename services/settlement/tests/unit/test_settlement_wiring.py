"""Settlement hands the runtime its own unit of work, the one its event handlers will receive."""

from __future__ import annotations

from recouvra_shared.db import Database
from recouvra_shared.runtime import Wiring
from settlement.adapters.unit_of_work import SqlSettlementUnitOfWork
from settlement.bootstrap import build
from settlement.config import SettlementSettings
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def test_the_runtime_gets_settlements_own_unit_of_work() -> None:
    settings = SettlementSettings()
    database = Database.connect(settings.database_url.get_secret_value())  # connects nothing yet
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
        assert parts.unit_of_work is not None
        uow: SettlementUnitOfWork = parts.unit_of_work()
        assert isinstance(uow, SqlSettlementUnitOfWork)
    finally:
        await database.dispose()
