"""Each service reaches its own database only, and at run time may change rows, not the schema.

On the real server, with the roles the tests themselves run as (tests.support.databases) and with
the local stack's own provisioning (deploy/local/postgres-init.sql).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator

import asyncpg
import pytest

from recouvra_shared.db_roles import migrate
from tests.support.databases import (
    ServiceDatabase,
    discard_local_stack_names,
    plain,
    provision_as_the_local_stack,
)
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.integration

INTAKE_MIGRATIONS = ROOT / "services" / "intake" / "src" / "intake" / "adapters" / "migrations"

# What the runtime role must never do, each with the error PostgreSQL answers.
SCHEMA_CHANGES = [
    "DROP TABLE cases",
    "ALTER TABLE cases ADD COLUMN probe integer",
    "TRUNCATE cases",
    "CREATE TABLE probe (id integer)",
    "CREATE TEMPORARY TABLE probe (id integer)",
    "UPDATE alembic_version SET version_num = 'forged'",
    "CREATE DATABASE probe",
    "CREATE ROLE probe",
]


def _on_database(url: str, database: str) -> str:
    """The same credentials, aimed at another database."""
    return plain(url).rsplit("/", 1)[0] + f"/{database}"


async def _refused_connection(url: str) -> str:
    with pytest.raises(asyncpg.InsufficientPrivilegeError) as refused:
        await asyncpg.connect(url)
    return str(refused.value)


async def _assert_rows_only(runtime_url: str) -> None:
    """The runtime role reads and writes rows, and every schema change is refused."""
    connection = await asyncpg.connect(plain(runtime_url))
    try:
        event_id = uuid.uuid4()
        await connection.execute(
            "INSERT INTO inbox (consumer, event_id, topic) VALUES ('probe', $1, 'probe')", event_id
        )
        assert await connection.fetchval("SELECT count(*) FROM inbox") == 1
        await connection.execute("DELETE FROM inbox WHERE event_id = $1", event_id)
        for statement in SCHEMA_CHANGES:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT count(*) FROM alembic_version") == 1
        privileged = await connection.fetch(
            "SELECT rolname FROM pg_roles WHERE rolname IN (current_user, current_user || '_owner')"
            " AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls)"
        )
        assert privileged == []
    finally:
        await connection.close()


async def test_intakes_roles_cannot_connect_to_scorings_database(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    intake, scoring = make_service_database("intake"), make_service_database("scoring")
    own = await asyncpg.connect(plain(intake.url))
    try:
        assert await own.fetchval("SELECT count(*) FROM cases") == 0
    finally:
        await own.close()

    for credentials in (intake.url, intake.owner_url):
        refusal = await _refused_connection(_on_database(credentials, scoring.name))
        assert f'permission denied for database "{scoring.name}"' in refusal


async def test_the_runtime_role_changes_rows_never_the_schema(
    make_service_database: Callable[..., ServiceDatabase],
) -> None:
    await _assert_rows_only(make_service_database("intake").url)


@pytest.fixture
def provisioned_by_the_stack(stack: Stack) -> Iterator[dict[str, str]]:
    """deploy/local/postgres-init.sql run for two fresh names standing for intake and scoring;
    each name's URLs as its runtime and owner roles (the stack's passwords: the role names)."""
    prefix = f"t_stackroles_{uuid.uuid4().hex[:8]}"
    names = {"intake": f"{prefix}_intake", "scoring": f"{prefix}_scoring"}
    try:
        provision_as_the_local_stack(stack, list(names.values()))
        urls = {}
        for service, name in names.items():
            urls[service] = stack.database_url(name, name, name)
            urls[f"{service}_owner"] = stack.database_url(name, f"{name}_owner", f"{name}_owner")
        yield urls
    finally:
        discard_local_stack_names(stack, list(names.values()))


def test_the_local_stack_gives_each_service_its_own_database_only(
    provisioned_by_the_stack: dict[str, str],
) -> None:
    urls = provisioned_by_the_stack
    migrate(INTAKE_MIGRATIONS, urls["intake_owner"], urls["intake"])  # python -m intake migrate
    scoring_database = plain(urls["scoring"]).rsplit("/", 1)[1]

    async def check() -> None:
        await _assert_rows_only(urls["intake"])
        for credentials in (urls["intake"], urls["intake_owner"]):
            refusal = await _refused_connection(_on_database(credentials, scoring_database))
            assert "permission denied for database" in refusal

    asyncio.run(check())
