"""An in-process intake gRPC server on a fresh real database, and callers to reach it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from intake.bootstrap import SERVICE_NAME, intake_api
from recouvra.intake.v1 import intake_pb2, intake_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.grpc import GrpcServer
from tests.support.identity import CallAs, as_person, as_service, identity_keys
from tests.support.pki import platform_pki

TODAY = date(2026, 11, 23)


@dataclass
class Intake:
    """A running intake and its database."""

    stub: intake_pb2_grpc.IntakeServiceStub
    database: Database

    @staticmethod
    def as_creditor(tenant: str) -> CallAs:
        return as_person("intake", "creditor", tenant)

    @staticmethod
    def as_partner(name: str = "billing-soft") -> CallAs:
        return as_person("intake", "partner", name, name)

    @staticmethod
    def as_kind(kind: str) -> CallAs:
        """Someone of this kind: a person the gateway names, or another service as itself."""
        if kind == "service":
            return as_service("intake", "matching")
        return as_person("intake", kind, "", "someone")


@asynccontextmanager
async def running_intake(
    url: str, today: Callable[[], date] = lambda: TODAY
) -> AsyncIterator[Intake]:
    """Serve IntakeService on a free local port against the given database."""
    database = Database.connect(url, pool_size=4)
    server = GrpcServer(
        "127.0.0.1:0",
        [SERVICE_NAME],
        tls=platform_pki().material("intake"),
        verifier=identity_keys().verifier("intake"),
    )
    intake_pb2_grpc.add_IntakeServiceServicer_to_server(intake_api(database, today), server.server)
    await server.start()
    channel = platform_pki().channel(f"127.0.0.1:{server.port}", "intake")
    try:
        yield Intake(stub=intake_pb2_grpc.IntakeServiceStub(channel), database=database)
    finally:
        await channel.close()
        await server.stop(0)
        await database.dispose()


def violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    """The field violations of a refused call, field -> rule."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, f"no status details in {error.code()} {error.details()}"
    found: dict[str, str] = {}
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            found |= {v.field: v.description for v in bad.field_violations}
    return found


def company(name: str = "Boulangerie Martin SARL", **extra: object) -> intake_pb2.Debtor:
    """A valid company debtor (SIREN of a real public company's format, Luhn-valid)."""
    fields: dict[str, object] = {
        "kind": intake_pb2.Debtor.COMPANY,
        "name": name,
        "siren_or_siret": "732 829 320",
        "vat_number": "FR44732829320",
        "address": intake_pb2.PostalAddress(
            lines=["12 rue de la Paix"], postal_code="75002", city="Paris", country_code="FR"
        ),
        "email": "compta@martin.example",
        "phone": "+33 1 42 68 53 00",
    }
    fields.update(extra)
    return intake_pb2.Debtor(**fields)  # type: ignore[arg-type]


def invoice(
    number: str = "F-2026-001", amount: str = "1200.00", **extra: str
) -> intake_pb2.Invoice:
    """A valid unpaid EUR invoice, due in 2026."""
    fields = {
        "invoice_number": number,
        "issue_date": "2026-03-01",
        "due_date": "2026-03-31",
        "currency": "EUR",
        "amount_due": amount,
    }
    fields.update(extra)
    return intake_pb2.Invoice(**fields)
