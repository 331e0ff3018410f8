"""Per-test service databases, provisioned the way every deployment provisions them.

The administrator only creates (and drops) a database and its two roles: `<db>_owner`, which owns
the database and runs the migrations, and `<db>`, the runtime role the service and the tests
connect as (rows only, see `recouvra_shared.db_roles`). Neither is superuser or may create
databases or roles, and no other role may connect to the database. Each test gets its own
database and roles, so tests running in parallel share no data and no credentials.
"""

from __future__ import annotations

import asyncio
import glob
import secrets
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from recouvra_shared.db_roles import migrate, quote_identifier
from tests.support.stack import ROOT, Stack, unique_name

# What deploy/local/postgres-init.sql and k8s/infra/postgres.yaml give every service role.
UNPRIVILEGED = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"


@dataclass(frozen=True)
class ServiceDatabase:
    """One service's database on the stack, and how each of its two roles reaches it."""

    service: str
    name: str
    url: str  # as the runtime role: what the service connects as
    owner_url: str  # as the schema owner: migrations only

    @property
    def role(self) -> str:
        return self.name

    @property
    def owner_role(self) -> str:
        return f"{self.name}_owner"

    def migrate(self) -> None:
        """`python -m <service> migrate`, in process: upgrade as the owner, grant the runtime."""
        migrations = ROOT / "services" / self.service / "src" / self.service / "adapters"
        migrate(migrations / "migrations", self.owner_url, self.url)


def plain(url: str) -> str:
    """A SQLAlchemy asyncpg URL as asyncpg itself takes it."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def admin_user(stack: Stack) -> str:
    """The administrator's role: for creating and dropping databases and roles, nothing else."""
    return urlsplit(stack.pg_admin_url).username or ""


async def admin_execute(stack: Stack, *statements: str) -> None:
    """Run statements as the administrator, each on its own (CREATE DATABASE needs that)."""
    connection = await asyncpg.connect(stack.pg_admin_url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def create_service_database(stack: Stack, service: str) -> ServiceDatabase:
    """A new, empty database of `service`, owned by a new owner role, usable by a new runtime."""
    name = unique_name(f"t_{service}")
    owner, owner_password = f"{name}_owner", secrets.token_hex(16)
    runtime, runtime_password = name, secrets.token_hex(16)
    db, owner_id, runtime_id = (quote_identifier(n) for n in (name, owner, runtime))
    await admin_execute(
        stack,
        f"CREATE ROLE {owner_id} {UNPRIVILEGED} PASSWORD '{owner_password}'",
        f"CREATE ROLE {runtime_id} {UNPRIVILEGED} PASSWORD '{runtime_password}'",
        f"CREATE DATABASE {db} OWNER {owner_id}",
        f"REVOKE ALL ON DATABASE {db} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {db} TO {runtime_id}",
    )
    return ServiceDatabase(
        service=service,
        name=name,
        url=stack.database_url(name, runtime, runtime_password),
        owner_url=stack.database_url(name, owner, owner_password),
    )


async def drop_service_database(stack: Stack, database: ServiceDatabase) -> None:
    """Drop the database, then its roles (they own nothing else)."""
    await admin_execute(
        stack,
        f"DROP DATABASE IF EXISTS {quote_identifier(database.name)} WITH (FORCE)",
        f"DROP ROLE IF EXISTS {quote_identifier(database.role)}",
        f"DROP ROLE IF EXISTS {quote_identifier(database.owner_role)}",
    )


def provision(stack: Stack, service: str, *, migrated: bool = True) -> ServiceDatabase:
    """Blocking (it runs event loops of its own): a database of `service`, migrated by default."""
    database = asyncio.run(create_service_database(stack, service))
    if migrated:
        database.migrate()
    return database


def discard(stack: Stack, databases: Iterable[ServiceDatabase]) -> None:
    """Blocking: drop the databases `provision` made, and their roles."""
    for database in databases:
        asyncio.run(drop_service_database(stack, database))


@contextmanager
def service_database(
    stack: Stack, service: str, *, migrated: bool = True
) -> Iterator[ServiceDatabase]:
    """For code without an event loop of its own (benchmarks): a database, dropped after."""
    database = provision(stack, service, migrated=migrated)
    try:
        yield database
    finally:
        discard(stack, [database])


def provision_as_the_local_stack(stack: Stack, names: list[str]) -> None:
    """Blocking: run deploy/local/postgres-init.sql, the stack's own provisioning, for `names`
    instead of the services (roles `<name>` and `<name>_owner`, passwords their names)."""
    psql = shutil.which("psql") or next(
        iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"), reverse=True)), None
    )
    if psql is None:
        raise RuntimeError("psql is not installed (deploy/local/stack.sh needs it too)")
    script = ROOT / "deploy" / "local" / "postgres-init.sql"
    command = [psql, "-X", "-q", "-v", f"services={','.join(names)}", "-f", str(script)]
    subprocess.run([*command, stack.pg_admin_url], check=True, capture_output=True, timeout=120)


def discard_local_stack_names(stack: Stack, names: list[str]) -> None:
    """Blocking: drop what `provision_as_the_local_stack` made."""
    statements = []
    for name in names:
        statements.append(f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)")
        for role in (name, f"{name}_owner"):
            statements.append(f"DROP ROLE IF EXISTS {quote_identifier(role)}")
    asyncio.run(admin_execute(stack, *statements))


async def tamper_as_administrator(
    stack: Stack, database: ServiceDatabase, *statements: str, bypass_guards: bool = False
) -> None:
    """For tests that play a rogue administrator: run statements in one transaction on the
    service's database as the administrator; with `bypass_guards`, with triggers (and foreign
    keys) switched off for the session, as only a superuser can."""
    admin = urlsplit(stack.pg_admin_url)
    connection = await asyncpg.connect(admin._replace(path=f"/{database.name}").geturl())
    try:
        async with connection.transaction():
            if bypass_guards:
                await connection.execute("SET LOCAL session_replication_role = replica")
            for statement in statements:
                await connection.execute(statement)
    finally:
        await connection.close()
