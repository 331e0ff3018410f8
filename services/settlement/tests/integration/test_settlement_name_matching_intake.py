"""Matching a suspense credit by its payer's name with the real intake (issue 14, point 3):
settlement asks intake, as itself, for the debtors' names of the cases that could be paid, and
proposes the one whose debtor's name is the payer's; nothing is booked until an operator
confirms it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest

from intake.bootstrap import SERVICE_NAME, intake_api
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer, client_channel
from services.intake.tests.integration.intake_harness import TODAY, company, invoice
from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry, camt053
from settlement.adapters.camt053 import read_statements
from settlement.adapters.intake_debtor_names import IntakeDebtorNames
from settlement.domain.receipts import InvoiceTerm, SettledCase
from settlement.service_layer.name_proposals import suspense_with_candidates
from settlement.service_layer.statement_import import import_statement
from settlement.service_layer.suspense import assign
from tests.support.identity import as_person, identity_keys
from tests.support.pki import platform_pki

pytestmark = pytest.mark.integration

NOT_IN_INTAKE = "0b7c1f2a-0000-4000-8000-0000000000ff"


def as_settlement(target: str) -> Any:
    """A channel to intake as bootstrap's `Wiring.channel_to` makes it for settlement."""
    return client_channel(
        target,
        tls=platform_pki().material("settlement"),
        server_name="intake",
        audience="intake",
        minter=identity_keys().minter("settlement"),
    )


@asynccontextmanager
async def serving_intake(url: str) -> AsyncIterator[tuple[intake_pb2_grpc.IntakeServiceStub, int]]:
    """Intake on a free local port, and a stub for creditors to submit cases."""
    database = Database.connect(url, pool_size=2)
    server = GrpcServer(
        "127.0.0.1:0",
        [SERVICE_NAME],
        tls=platform_pki().material("intake"),
        verifier=identity_keys().verifier("intake"),
    )
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(
        intake_api(database, lambda: TODAY), server.server
    )
    await server.start()
    channel = platform_pki().channel(f"127.0.0.1:{server.port}", "intake")
    try:
        yield intake_pb2_grpc.IntakeServiceStub(channel), server.port
    finally:
        await channel.close()
        await server.stop(0)
        await database.dispose()


def settled(case_id: str, creditor: str) -> SettledCase:
    """The case as intake's case-submitted told settlement: 1,200.00 due 31 March 2026."""
    return SettledCase(
        case_id, creditor, True, "EUR", (InvoiceTerm(120_000, date(2026, 3, 1), date(2026, 3, 31)),)
    )


async def test_the_payers_name_proposes_the_debtors_case_read_from_intake(
    ledger: Ledger, make_database: Callable[[str], str]
) -> None:
    async with serving_intake(make_database("intake")) as (intake, port):
        submitted = await intake.SubmitCase(
            intake_pb2.SubmitCaseRequest(
                creditor_id="creditor-1",
                debtor=company("Boulangerie Martin SARL"),
                invoices=[invoice("F-2026-001", "1200.00")],
            ),
            metadata=as_person("intake", "creditor", "creditor-1"),
        )
        other = await intake.SubmitCase(
            intake_pb2.SubmitCaseRequest(
                creditor_id="creditor-2",
                debtor=company("Garage Dubois"),
                invoices=[invoice("F-2026-002", "1200.00")],
            ),
            metadata=as_person("intake", "creditor", "creditor-2"),
        )
        async with ledger.units() as uow:
            await uow.cases.put(settled(submitted.case_id, "creditor-1"))
            await uow.cases.put(settled(other.case_id, "creditor-2"))
            await uow.cases.put(settled(NOT_IN_INTAKE, "creditor-3"))
            await uow.commit()
        (statement,) = read_statements(
            camt053([Entry(50_000, debtor_name="MARTIN BOULANGERIE", booked_on=date(2026, 4, 15))])
        )
        report = await import_statement(statement, ledger.units, CLIENT_MONEY_IBAN)
        assert report.suspense == 1  # no reference; the amount is owed by no case exactly

        channel = as_settlement(f"127.0.0.1:{port}")
        try:
            (waiting,) = await suspense_with_candidates(ledger.units, IntakeDebtorNames(channel))
        finally:
            await channel.close()
        (candidate,) = waiting.candidates
        assert (candidate.case_id, candidate.confidence) == (submitted.case_id, 100)
        assert candidate.owed_minor >= 120_000  # principal, with interest and the indemnity

    # Proposed, not booked: the operator confirms.
    async with ledger.units() as uow:
        assert (await uow.receipts.get(waiting.receipt.receipt_id)).case_id is None  # type: ignore[union-attr]
    assigned = await assign(waiting.receipt.receipt_id, submitted.case_id, ledger.units())
    assert assigned.creditor_id == "creditor-1"
