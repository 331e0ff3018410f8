"""GetPaymentInstructions served as bootstrap wires it, on the real PostgreSQL: one reference per
case for good, even when asked twice at once; refusals arrive as statuses naming the field."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import asyncpg
import grpc
import pytest
from stdnum import iso11649

from recouvra.common.v1.money_pb2 import Money
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer
from recouvra_shared.runtime import Wiring
from settlement.bootstrap import build
from settlement.config import SettlementSettings
from tests.support.identity import as_person, as_service, identity_keys
from tests.support.pki import platform_pki

pytestmark = pytest.mark.integration

SERVICE = as_service("settlement", "messaging")


@pytest.fixture
async def stub(
    make_database: Callable[[str], str],
) -> AsyncIterator[tuple[settlement_pb2_grpc.SettlementServiceStub, str]]:
    url = make_database("settlement")
    settings = SettlementSettings(database_url=url)
    database = Database.connect(url, pool_size=4)
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
        yield settlement_pb2_grpc.SettlementServiceStub(channel), url
    finally:
        await channel.close()
        await server.stop(0)
        await database.dispose()


def request(case_id: str, cents: int | None = None) -> settlement_pb2.GetPaymentInstructionsRequest:
    asked = settlement_pb2.GetPaymentInstructionsRequest(case_id=case_id)
    if cents is not None:
        asked.amount_due.CopyFrom(Money(currency="EUR", minor_units=cents))
    return asked


async def test_a_case_gets_one_reference_for_good_even_asked_at_once(stub) -> None:
    client, url = stub
    case_id = str(uuid.uuid4())
    replies = await asyncio.gather(
        *(
            client.GetPaymentInstructions(request(case_id, 4_000), metadata=SERVICE)
            for _ in range(4)
        )
    )
    references = {r.reference for r in replies}
    assert len(references) == 1
    reference = references.pop()
    assert iso11649.is_valid(reference)
    assert replies[0].iban == "FR7630006000011234567890189"
    assert f"\nEUR40\n\n{reference}" in replies[0].epc_qr_payload
    later = await client.GetPaymentInstructions(request(case_id), metadata=SERVICE)
    assert later.reference == reference

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        for statement in (
            "UPDATE payment_references SET reference = 'RF18539007547034'",
            "DELETE FROM payment_references",
        ):
            with pytest.raises(asyncpg.RestrictViolationError, match="once given, stays"):
                await connection.execute(statement)
        with pytest.raises(asyncpg.UniqueViolationError):
            await connection.execute(
                "INSERT INTO payment_references (case_id, reference) VALUES ($1, $2)",
                str(uuid.uuid4()),
                reference,
            )
    finally:
        await connection.close()


async def test_refusals_arrive_as_statuses_naming_the_field(stub) -> None:
    client, _ = stub
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.GetPaymentInstructions(request("not-a-uuid"), metadata=SERVICE)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "case_id" in (refused.value.details() or "")
    debtor = as_person("settlement", "debtor", "", str(uuid.uuid4()))
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await client.GetPaymentInstructions(request(str(uuid.uuid4())), metadata=debtor)
    assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
