"""A database made by the first schema keeps its cases through the multi-invoice migration."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import grpc
import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.migrations import upgrade
from services.intake.tests.integration.intake_harness import running_intake
from tests.support.databases import ServiceDatabase, plain

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).parents[2] / "src" / "intake" / "adapters" / "migrations"
CASE_ID = "2f0c8f6e-5a8d-4a43-9c3e-6d1f1b7a9e21"


@pytest.fixture
def old_database(make_service_database: Callable[..., ServiceDatabase]) -> ServiceDatabase:
    return make_service_database("intake", migrated=False)


def test_single_invoice_cases_survive_the_migration(old_database: ServiceDatabase) -> None:
    upgrade(MIGRATIONS, old_database.owner_url, "0001")

    async def insert_old_case() -> None:
        # The rows an older release wrote (as the owner: no grants at that revision yet).
        connection = await asyncpg.connect(plain(old_database.owner_url))
        try:
            await connection.execute(
                "INSERT INTO cases (case_id, creditor_id, debtor_name, debtor_is_business,"
                " invoice_number, currency, amount_minor, issue_date, due_date, disputed, status)"
                " VALUES ($1, 'creditor-a', 'Vieux  Client SARL', true, 'OLD-1', 'EUR', 12345,"
                " '2026-01-01', '2026-01-31', false, 'submitted')",
                CASE_ID,
            )
        finally:
            await connection.close()

    asyncio.run(insert_old_case())
    old_database.migrate()

    async def read_back() -> tuple[intake_pb2.Case, grpc.StatusCode]:
        async with running_intake(old_database.url) as intake:
            me = intake.as_creditor("creditor-a")
            case = await intake.stub.GetCase(
                intake_pb2.GetCaseRequest(case_id=CASE_ID), metadata=me
            )
            again = intake_pb2.SubmitCaseRequest(
                creditor_id="creditor-a",
                debtor_name="vieux client sarl",
                debtor_is_business=True,
                invoice_number="OLD-1",
                amount=Money(currency="EUR", minor_units=12345),
                issue_date="2026-01-01",
                due_date="2026-01-31",
            )
            try:
                await intake.stub.SubmitCase(again, metadata=me)
            except grpc.aio.AioRpcError as exc:
                return case, exc.code()
            return case, grpc.StatusCode.OK

    case, resubmitted = asyncio.run(read_back())
    assert resubmitted == grpc.StatusCode.ALREADY_EXISTS
    assert case.debtor.kind == intake_pb2.Debtor.COMPANY
    assert case.debtor.name == "Vieux  Client SARL"
    assert [i.invoice_number for i in case.invoices] == ["OLD-1"]
    assert case.amount.minor_units == 12345
    assert case.legal_amounts.indemnity.minor_units == 4000
