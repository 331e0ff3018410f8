"""Invoices and statements over gRPC, served as bootstrap wires them on the real PostgreSQL, with
signed callers: each party gets its own documents, another's answers NOT_FOUND."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from decimal import Decimal

import grpc
import pytest
from stdnum import iso11649

from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer
from recouvra_shared.runtime import Wiring
from services.settlement.tests.integration.conftest import Ledger
from services.settlement.tests.unit.builders import receipt, success_fee
from services.settlement.tests.unit.invoice_builders import (
    CREDITOR,
    PlainRenderer,
    platform_commission,
    provider_fee,
)
from services.settlement.tests.unit.money_in_world import two_invoice_case
from services.settlement.tests.unit.payout_builders import (
    BANK_SIDE,
    clock,
    fee_taken,
    money_in,
    payee,
)
from settlement.bootstrap import build
from settlement.config import SettlementSettings
from settlement.domain.payout_commands import (
    ApprovePayoutBatch,
    ProposePayoutBatch,
    ReleasePayoutBatch,
)
from settlement.service_layer.invoices import issue_invoice
from settlement.service_layer.ledger import post_entry
from settlement.service_layer.payouts import (
    PayoutPolicy,
    approve_batch,
    propose_batch,
    release_batch,
)
from tests.support.identity import as_person, identity_keys
from tests.support.pki import platform_pki

pytestmark = pytest.mark.integration

CRED_1 = as_person("settlement", "creditor", "cred-1")
CRED_2 = as_person("settlement", "creditor", "cred-2")
PROV_1 = as_person("settlement", "provider", "prov-1")
OPERATOR = as_person("settlement", "operator", "")
DEBTOR = as_person("settlement", "debtor", "case-1")


@pytest.fixture
async def stub(ledger: Ledger) -> AsyncIterator[settlement_pb2_grpc.SettlementServiceStub]:
    settings = SettlementSettings(database_url=ledger.url)
    database = Database.connect(ledger.url, pool_size=4)
    parts = build(Wiring(settings=settings, database=database, broker=None))
    server = GrpcServer(
        "127.0.0.1:0",
        [name for name, _ in parts.grpc_services],
        tls=platform_pki().material("settlement"),
        verifier=identity_keys().verifier("settlement"),
    )
    for _, register in parts.grpc_services:
        register(server.server)
    await server.start()
    channel = platform_pki().channel(f"127.0.0.1:{server.port}", "settlement")
    try:
        yield settlement_pb2_grpc.SettlementServiceStub(channel)
    finally:
        await channel.close()
        await server.stop(0)
        await database.dispose()


async def documents(ledger: Ledger) -> str:
    """cred-1's fee and commission invoices, cred-2's fee invoice; December's books."""
    renderer = PlainRenderer()
    fee = await issue_invoice(provider_fee(), ledger.units(), renderer)
    await issue_invoice(platform_commission(), ledger.units(), renderer)
    other = provider_fee("event:fee-2", buyer=replace(CREDITOR, party_id="cred-2"))
    await issue_invoice(other, ledger.units(), renderer)
    await post_entry(receipt("L1", 120_000, date(2026, 12, 1)), ledger.units())
    await post_entry(
        success_fee("f-1", 18_000, 3_600, 3_600, 720, date(2026, 12, 2)), ledger.units()
    )
    return fee.invoice.invoice_id


async def test_each_party_lists_and_downloads_only_its_own_invoices(
    ledger: Ledger, stub: settlement_pb2_grpc.SettlementServiceStub
) -> None:
    fee_id = await documents(ledger)
    listed = settlement_pb2.ListInvoicesRequest()
    mine = await stub.ListInvoices(listed, metadata=CRED_1)
    assert [i.number for i in mine.invoices] == ["HON-prov-1-000001"]
    assert (mine.invoices[0].total.minor_units, mine.invoices[0].buyer_name) == (
        21_600,
        "Boulangerie Martin",
    )
    provider = await stub.ListInvoices(listed, metadata=PROV_1)
    assert {i.number for i in provider.invoices} == {
        "HON-prov-1-000001",
        "HON-prov-1-000002",
        "COM-000001",
    }
    assert len((await stub.ListInvoices(listed, metadata=OPERATOR)).invoices) == 3
    document = await stub.GetInvoiceDocument(
        settlement_pb2.GetInvoiceDocumentRequest(invoice_id=fee_id), metadata=CRED_1
    )
    assert (document.file_name, document.media_type) == ("HON-prov-1-000001.pdf", "application/pdf")
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await stub.GetInvoiceDocument(
            settlement_pb2.GetInvoiceDocumentRequest(invoice_id=fee_id), metadata=CRED_2
        )
    assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as debtor:
        await stub.ListInvoices(listed, metadata=DEBTOR)
    assert debtor.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_creditor_downloads_its_statement_and_no_one_elses(
    ledger: Ledger, stub: settlement_pb2_grpc.SettlementServiceStub
) -> None:
    await documents(ledger)
    csv_reply = await stub.GetStatement(
        settlement_pb2.GetStatementRequest(month="2026-12"), metadata=CRED_1
    )
    assert csv_reply.file_name == "statement-creditor-cred-1-2026-12.csv"
    rows = list(csv.DictReader(io.StringIO(csv_reply.content.decode()), delimiter=";"))
    closing = next(
        r for r in rows if r["account"] == "4671/cred-1" and r["description"] == "closing balance"
    )
    assert Decimal(closing["credit"]) == Decimal("984.00")  # 1,200.00 - 216.00
    pdf = await stub.GetStatement(
        settlement_pb2.GetStatementRequest(
            month="2026-12", format=settlement_pb2.STATEMENT_FORMAT_PDF
        ),
        metadata=PROV_1,
    )
    assert pdf.content.startswith(b"%PDF")
    assert pdf.file_name == "statement-provider-prov-1-2026-12.pdf"
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await stub.GetStatement(
            settlement_pb2.GetStatementRequest(
                party_role="creditor", party_id="cred-1", month="2026-12"
            ),
            metadata=CRED_2,
        )
    assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetStatement(
            settlement_pb2.GetStatementRequest(month="12/2026"), metadata=CRED_1
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "month" in (bad.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as unnamed:
        await stub.GetStatement(
            settlement_pb2.GetStatementRequest(month="2026-12"), metadata=OPERATOR
        )
    assert unnamed.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_released_payouts_are_listed_to_the_party_paid_and_no_one_else(
    ledger: Ledger, stub: settlement_pb2_grpc.SettlementServiceStub
) -> None:
    units = ledger.units
    for kind, party in (("creditor", "cred-1"), ("provider", "prov-1")):
        await payee(units, kind, party)
    await money_in(units, "L1", "cred-1", 250_000, date(2026, 12, 1))
    await fee_taken(units, "F1", "cred-1", "prov-1", 30_000, date(2026, 12, 2))
    thursday = date(2026, 12, 10)
    proposal = await propose_batch(
        ProposePayoutBatch("alice", thursday),
        units(),
        PayoutPolicy(hold_business_days=3, minimum=100),
        clock(thursday),
    )
    batch_id = proposal.batch.batch_id
    listed = settlement_pb2.ListPayoutsRequest()
    assert not (await stub.ListPayouts(listed, metadata=CRED_1)).payouts  # not released yet
    await approve_batch(ApprovePayoutBatch("alice", batch_id), units())
    await approve_batch(ApprovePayoutBatch("bob", batch_id), units())
    await release_batch(ReleasePayoutBatch("carol", batch_id), units, BANK_SIDE)

    mine = (await stub.ListPayouts(listed, metadata=CRED_1)).payouts
    assert [(p.batch_id, p.kind, p.amount.minor_units) for p in mine] == [
        (batch_id, "transfer", 220_000)
    ]
    fees = (await stub.ListPayouts(listed, metadata=PROV_1)).payouts
    assert [p.amount.minor_units for p in fees] == [30_000]
    assert not (await stub.ListPayouts(listed, metadata=CRED_2)).payouts
    with pytest.raises(grpc.aio.AioRpcError) as operator:
        await stub.ListPayouts(listed, metadata=OPERATOR)
    assert operator.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_creditor_gets_the_payment_instructions_of_its_own_case_only(
    ledger: Ledger, stub: settlement_pb2_grpc.SettlementServiceStub
) -> None:
    case_id = "0b7c1f2a-0000-4000-8000-00000000000a"
    async with ledger.units() as uow:
        await uow.cases.put(two_invoice_case(case_id, creditor="cred-1"))
        await uow.commit()
    asked = settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id)
    mine = await stub.GetPaymentInstructions(asked, metadata=CRED_1)
    assert iso11649.is_valid(mine.reference)
    for stranger in (CRED_2, as_person("settlement", "creditor", "")):
        with pytest.raises(grpc.aio.AioRpcError) as foreign:
            await stub.GetPaymentInstructions(asked, metadata=stranger)
        assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as provider:
        await stub.GetPaymentInstructions(asked, metadata=PROV_1)
    assert provider.value.code() == grpc.StatusCode.PERMISSION_DENIED
