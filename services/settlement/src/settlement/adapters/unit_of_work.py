"""Settlement's unit of work on PostgreSQL: the shared one, which its repositories will join."""

from __future__ import annotations

from collections.abc import Callable

from recouvra_shared.db import Database, UnitOfWork


class SqlSettlementUnitOfWork(UnitOfWork):
    """One transaction over settlement's tables; usable by the shared inbox consumer as is.

    Repositories are created in `__aenter__`, after `await super().__aenter__()`, on
    `self.session`, as the vault's are.
    """


def settlement_units(database: Database) -> Callable[[], SqlSettlementUnitOfWork]:
    """The factory of settlement's units of work on `database`."""
    return lambda: SqlSettlementUnitOfWork(database.sessions)
