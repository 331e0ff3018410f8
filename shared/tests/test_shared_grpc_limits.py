"""Messages as large as the REST API accepts cross between services; larger ones are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.grpc import MAX_MESSAGE_BYTES, GrpcServer, client_channel
from tests.support.identity import IdentityKeys
from tests.support.pki import TEST_CLIENT, platform_pki

# Every server and channel here is mutual TLS, as in production.
PKI = platform_pki()


async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


@pytest.mark.parametrize(
    ("size", "answered"),
    [(21 * 1024 * 1024, True), (40 * 1024 * 1024, False)],
    ids=["a-20-MiB-e-invoice-passes", "past-the-limit-is-refused"],
)
async def test_messages_as_large_as_the_rest_limits_cross(
    size: int, answered: bool, identity_keys: IdentityKeys
) -> None:
    server = GrpcServer(
        "127.0.0.1:0", [], tls=PKI.material("intake"), verifier=identity_keys.verifier("probe")
    )
    server.server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(
                "probe.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}
            )
        ]
    )
    await server.start()
    try:
        minter = identity_keys.minter("intake")
        async with client_channel(
            f"127.0.0.1:{server.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="probe",
            minter=minter,
        ) as channel:
            call = channel.unary_unary("/probe.Echo/Echo")(b"x" * size)
            if answered:
                assert len(await call) == size
            else:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await call
                assert refused.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    finally:
        await server.stop(0)


# Real contracts at the REST limits, over the platform's server and channel (mutual TLS, tokens):
# the largest e-invoice the gateway accepts (20 MiB) in one ImportEInvoice request, and the
# largest page of cases (200) in one ListCases reply, made as large as a page of cases with
# long notes gets (about 13 MiB); past MAX_MESSAGE_BYTES, a clear refusal naming the limit.
E_INVOICE_BYTES = 20 * 1024 * 1024
PAGE_CASES = 200


def page_of_cases(target_bytes: int) -> intake_pb2.ListCasesResponse:
    """200 cases of a few invoice lines each, whose notes make the page `target_bytes` long."""
    notes = "Relance par LRAR, appel au comptable, promesse de paiement. "
    per_case = target_bytes // PAGE_CASES
    return intake_pb2.ListCasesResponse(
        cases=[
            intake_pb2.Case(
                case_id=f"case-{n:04d}",
                creditor_id="creditor-1",
                status="assigned",
                debtor_name="Société Générale des Éléphants",
                notes=(notes * (per_case // len(notes) + 1))[:per_case],
                invoices=[
                    intake_pb2.InvoiceLine(
                        invoice_number=f"F-2026-{n:04d}-{i:02d}", issue_date="2026-08-01"
                    )
                    for i in range(5)
                ],
            )
            for n in range(PAGE_CASES)
        ]
    )


class BigIntake(intake_pb2_grpc.IntakeServiceServicer):
    """Answers ListCases with a page of the size asked in its filter, and takes any e-invoice."""

    async def ListCases(
        self, request: intake_pb2.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ListCasesResponse:
        return page_of_cases(int(request.page_token))

    async def ImportEInvoice(
        self, request: intake_pb2.ImportEInvoiceRequest, context: grpc.aio.ServicerContext
    ) -> intake_pb2.ImportEInvoiceResponse:
        return intake_pb2.ImportEInvoiceResponse(case_id=f"case-of-{len(request.content)}")


@pytest.fixture
async def intake(identity_keys: IdentityKeys) -> AsyncIterator[intake_pb2_grpc.IntakeServiceStub]:
    server = GrpcServer(
        "127.0.0.1:0", [], tls=PKI.material("intake"), verifier=identity_keys.verifier("intake")
    )
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(BigIntake(), server.server)
    await server.start()
    try:
        async with client_channel(
            f"127.0.0.1:{server.port}",
            tls=PKI.material(TEST_CLIENT),
            server_name="intake",
            audience="intake",
            minter=identity_keys.minter("gateway"),
            default_deadline=60,
        ) as channel:
            yield intake_pb2_grpc.IntakeServiceStub(channel)
    finally:
        await server.stop(0)


async def test_issue_13_point_10_a_20_mib_e_invoice_and_a_200_case_page_cross(
    intake: intake_pb2_grpc.IntakeServiceStub,
) -> None:
    imported = await intake.ImportEInvoice(
        intake_pb2.ImportEInvoiceRequest(content=b"%PDF-1.7\n" + b"x" * (E_INVOICE_BYTES - 9))
    )
    page = await intake.ListCases(intake_pb2.ListCasesRequest(page_token=str(13 * 1024 * 1024)))

    assert imported.case_id == f"case-of-{E_INVOICE_BYTES}"
    assert len(page.cases) == PAGE_CASES
    assert page.ByteSize() >= 13 * 1024 * 1024


async def test_issue_13_point_10_past_the_limit_is_refused_naming_it(
    intake: intake_pb2_grpc.IntakeServiceStub,
) -> None:
    too_large = MAX_MESSAGE_BYTES + 1024
    with pytest.raises(grpc.aio.AioRpcError) as sent:
        await intake.ImportEInvoice(intake_pb2.ImportEInvoiceRequest(content=b"x" * too_large))

    assert sent.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert str(MAX_MESSAGE_BYTES) in (sent.value.details() or ""), sent.value.details()
