"""The holder's case file and the case list's status filter, over fakes: the provider holding a
case reads whom to collect from; anyone else gets 404, exactly like a missing case; a status
filter intake does not know is a 422 naming `status` and the allowed values."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.intake.v1 import intake_pb2
from recouvra_shared.context import caller_var
from recouvra_shared.errors import InvalidRequest, NotFound, Violation
from services.gateway.tests.unit.gateway_fakes import (
    PROBLEM,
    FakeMatching,
    FakeStore,
    fields_of,
    http_client,
    marketplace_services,
    sign_up,
    sign_up_provider,
    status_for,
)

ALLOWED = "submitted, scored, quoted, offered, assigned, recalled, rotated, paid, exhausted, closed"


class CaseFileIntake:
    """Intake's GetCaseFile for the provider `holders` names, and its status-checking list."""

    def __init__(self) -> None:
        self.holders: dict[str, str] = {}
        self.list_calls: list[Any] = []

    async def GetCaseFile(self, request: Any) -> Any:
        caller = caller_var.get()
        holder = self.holders.get(request.case_id)
        if caller is None or caller.kind != "provider" or caller.tenant_id != holder:
            raise status_for(NotFound("case_id: no such case"))
        debtor = intake_pb2.Debtor(
            kind=intake_pb2.Debtor.COMPANY,
            name="Boulangerie Martin SARL",
            siren_or_siret="732829320",
            address=intake_pb2.PostalAddress(
                lines=["12 rue des Lilas"], postal_code="75011", city="Paris"
            ),
            email="compta@martin.example",
            phone="+33142000000",
        )
        case = intake_pb2.Case(
            case_id=request.case_id,
            creditor_id="creditor-a",
            status="assigned",
            debtor=debtor,
            invoices=[
                intake_pb2.InvoiceLine(
                    invoice_number="F-9",
                    issue_date="2026-03-01",
                    due_date="2026-03-31",
                    amount_due=Money(currency="EUR", minor_units=120000),
                )
            ],
        )
        holding = intake_pb2.CaseHolder(
            provider_id=holder, round=1, window_ends_at="2027-01-15T09:00:00+00:00"
        )
        case.holder.CopyFrom(holding)
        case.round = 1
        return intake_pb2.CaseFile(case=case, holder=holding)

    async def ListCases(self, request: Any) -> Any:
        self.list_calls.append(request)
        unknown = [s for s in request.statuses if s not in ALLOWED.split(", ")]
        if unknown:
            rule = f"must each be one of {ALLOWED}; unknown: {', '.join(unknown)}"
            raise status_for(InvalidRequest([Violation("statuses", rule)]))
        return intake_pb2.ListCasesResponse()


@pytest.fixture
def intake() -> CaseFileIntake:
    return CaseFileIntake()


@pytest.fixture
async def client(
    store: FakeStore, passwords: Passwords, tokens: Tokens, intake: CaseFileIntake
) -> AsyncIterator[httpx.AsyncClient]:
    services = dataclasses.replace(
        marketplace_services(store, passwords, tokens, FakeMatching()),
        intake=IntakeClient(intake),
    )
    async with http_client(services) as http:
        yield http


async def test_the_holder_reads_whom_to_collect_from(
    client: httpx.AsyncClient, intake: CaseFileIntake
) -> None:
    provider_id, provider = await sign_up_provider(client, "bureau@lambert.fr")
    intake.holders["case-1"] = provider_id
    read = await client.get("/v1/provider/assignments/case-1/case-file", headers=provider)
    assert read.status_code == 200, read.text
    body = read.json()
    debtor = body["case"]["debtor"]
    assert (debtor["name"], debtor["email"], debtor["phone"]) == (
        "Boulangerie Martin SARL",
        "compta@martin.example",
        "+33142000000",
    )
    assert debtor["address"]["lines"] == ["12 rue des Lilas"]
    assert [i["invoice_number"] for i in body["case"]["invoices"]] == ["F-9"]
    assert body["holder"] == {
        "provider_id": provider_id,
        "round": 1,
        "window_ends_at": "2027-01-15T09:00:00+00:00",
    }
    assert body["case"]["holder"]["provider_id"] == provider_id


async def test_anyone_but_the_holder_gets_404_like_a_missing_case(
    client: httpx.AsyncClient, intake: CaseFileIntake
) -> None:
    _, other = await sign_up_provider(client, "other@etude.fr", siren="552100554")
    intake.holders["case-1"] = "somebody-else"
    refused = await client.get("/v1/provider/assignments/case-1/case-file", headers=other)
    missing = await client.get("/v1/provider/assignments/case-404/case-file", headers=other)
    assert refused.status_code == missing.status_code == 404
    assert refused.headers["content-type"] == PROBLEM
    assert without_instance(refused.json()) == without_instance(missing.json())
    assert refused.json()["detail"] == "case: no such case held by you"
    creditor = await sign_up(client, "alice@atelier.fr")
    as_creditor = await client.get("/v1/provider/assignments/case-1/case-file", headers=creditor)
    assert as_creditor.status_code == 403


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in problem.items() if k != "instance"}


async def test_an_unknown_status_filter_is_a_422_naming_status_and_the_allowed_values(
    client: httpx.AsyncClient, intake: CaseFileIntake
) -> None:
    creditor = await sign_up(client, "alice@atelier.fr")
    listed = await client.get("/v1/cases?status=assigned&status=rotated", headers=creditor)
    assert listed.status_code == 200, listed.text
    refused = await client.get("/v1/cases?status=assigned&status=lost", headers=creditor)
    assert refused.status_code == 422, refused.text
    rule = fields_of(refused)["status"]
    assert "lost" in rule
    assert ALLOWED in rule


def test_the_case_file_route_is_documented(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    services: GatewayServices = marketplace_services(store, passwords, tokens, FakeMatching())
    document = create_app(services, {}).openapi()
    operation = document["paths"]["/v1/provider/assignments/{case_id}/case-file"]["get"]
    assert operation["tags"] == ["assignments"]
    assert {"200", "401", "403", "404", "503"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert {"case", "holder"} <= set(schemas["CaseFileView"]["properties"])
    status_filter = next(
        p for p in document["paths"]["/v1/cases"]["get"]["parameters"] if p["name"] == "status"
    )
    assert "rotated" in status_filter["description"]
