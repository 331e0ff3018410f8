"""Two PostgreSQL roles per service: the schema owner migrates, the runtime role only uses.

Each service's database is owned by `<service>_owner`, the role `python -m <service> migrate`
connects as: it creates and alters the tables. The service itself connects as `<service>`, which
may read and write rows but not DROP, ALTER or TRUNCATE a table, create one, or change the
recorded schema version, so a compromised service cannot destroy its schema or its history in a
single statement, and a mistaken query cannot silently reshape it. Nobody else may connect to the
database: CONNECT is revoked from PUBLIC and granted to the runtime role alone.

`migrate` is what the migrate command, the test fixtures and the benchmarks all run: the same
grants everywhere. It needs PostgreSQL 15 or later (the `public` schema belongs to the database
owner there, so the owner can lock it down without the administrator).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import pool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from recouvra_shared.migrations import upgrade

# Rows only: no TRUNCATE, REFERENCES or TRIGGER, and nothing on the schema but USAGE.
RUNTIME_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"


def quote_identifier(name: str) -> str:
    """A role or database name as a PostgreSQL identifier (any name, quoted)."""
    return '"' + name.replace('"', '""') + '"'


def role_of(database_url: str) -> str:
    """The role a database URL connects as."""
    username = make_url(database_url).username
    if not username:
        raise ValueError("database URL names no user")
    return username


def runtime_grants(database: str, runtime_role: str) -> list[str]:
    """What the schema owner runs, after each upgrade, to let the runtime role use its tables."""
    db, role = quote_identifier(database), quote_identifier(runtime_role)
    return [
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {role}",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT {RUNTIME_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The schema version is the migration role's to change.
        f"REVOKE INSERT, UPDATE, DELETE ON TABLE alembic_version FROM {role}",
    ]


async def grant_runtime_role(owner_url: str, runtime_role: str) -> None:
    """Connect as the schema owner and apply `runtime_grants` in one transaction."""
    engine = create_async_engine(owner_url, poolclass=pool.NullPool, hide_parameters=True)
    try:
        async with engine.begin() as connection:
            database = (await connection.execute(text("SELECT current_database()"))).scalar_one()
            for statement in runtime_grants(str(database), runtime_role):
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def migrate(script_location: Path, owner_url: str, runtime_url: str) -> None:
    """Upgrade the schema as its owner, then grant the runtime role the use of every table.

    When both URLs name the same role (a deployment without a separate owner) there is nothing to
    grant: that role owns everything, which is what the split exists to avoid.
    """
    owner, runtime = make_url(owner_url), make_url(runtime_url)
    if (owner.host, owner.port, owner.database) != (runtime.host, runtime.port, runtime.database):
        # A runtime URL pointed at a test database with the owner left at its default, say.
        raise ValueError(
            "migration_database_url and database_url name different databases "
            f"({owner.host}:{owner.port}/{owner.database} and "
            f"{runtime.host}:{runtime.port}/{runtime.database}): set both"
        )
    upgrade(script_location, owner_url)
    runtime_role = role_of(runtime_url)
    if runtime_role != role_of(owner_url):
        asyncio.run(grant_runtime_role(owner_url, runtime_role))
