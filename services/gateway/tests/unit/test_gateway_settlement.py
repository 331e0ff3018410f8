"""Money over REST, with fakes of intake and settlement: a creditor's invoices, statements,
payouts and payment instructions, a provider's fee statement; what settlement is asked, as whom;
another party's invoice or case answers 404, like a missing one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.adapters.settlement import SettlementClient
from gateway.entrypoints.http import create_app
from recouvra.common.v1.money_pb2 import Money
from recouvra.settlement.v1 import settlement_pb2
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import InvalidField, NotFound, PermissionDenied
from services.gateway.tests.unit.gateway_fakes import (
    PROBLEM,
    FakeCases,
    FakeMatching,
    FakeStore,
    fields_of,
    marketplace_services,
    sign_up,
    sign_up_provider,
    status_for,
)

PDF = b"%PDF-1.7\n% Factur-X HON-prov-1-000001\n" * 20


def _eur(cents: int) -> Money:
    return Money(currency="EUR", minor_units=cents)


class FakeSettlement:
    """Answers like settlement's SettlementService: a creditor reads the invoices addressed to it,
    its payouts and its statement, a provider its statement; another party's invoice or case is
    NOT_FOUND; debtors and operators are refused. Records who asked."""

    def __init__(self) -> None:
        self.invoices: dict[str, tuple[str, settlement_pb2.InvoiceSummary]] = {}
        self.payouts: dict[str, list[settlement_pb2.PartyPayout]] = {}
        self.case_creditors: dict[str, str] = {}
        self.callers: list[tuple[str, Caller | None]] = []

    def _party(self, rpc: str) -> Caller:
        caller = caller_var.get()
        self.callers.append((rpc, caller))
        if caller is None or caller.kind not in ("creditor", "provider") or not caller.tenant_id:
            raise status_for(PermissionDenied("a caller of this kind reads nothing here"))
        return caller

    async def ListInvoices(self, request: Any) -> Any:
        caller = self._party("ListInvoices")
        mine = [i for buyer, i in self.invoices.values() if buyer == caller.tenant_id]
        return settlement_pb2.ListInvoicesResponse(invoices=mine)

    async def GetInvoiceDocument(self, request: Any) -> Any:
        caller = self._party("GetInvoiceDocument")
        found = self.invoices.get(request.invoice_id)
        if found is None or found[0] != caller.tenant_id:
            raise status_for(NotFound(f"no invoice {request.invoice_id}"))
        return settlement_pb2.Document(
            file_name=f"{found[1].number}.pdf", media_type="application/pdf", content=PDF
        )

    async def GetStatement(self, request: Any) -> Any:
        caller = self._party("GetStatement")
        if request.month > "2099-12":
            raise status_for(InvalidField("month", "YYYY-MM, a month that has begun"))
        pdf = request.format == settlement_pb2.STATEMENT_FORMAT_PDF
        stem = f"statement-{caller.kind}-{caller.tenant_id}-{request.month}"
        return settlement_pb2.Document(
            file_name=f"{stem}.{'pdf' if pdf else 'csv'}",
            media_type="application/pdf" if pdf else "text/csv",
            content=PDF if pdf else f"date;entry_no;{caller.tenant_id}\r\n".encode(),
        )

    async def ListPayouts(self, request: Any) -> Any:
        caller = self._party("ListPayouts")
        return settlement_pb2.ListPayoutsReply(payouts=self.payouts.get(caller.tenant_id or "", []))

    async def GetPaymentInstructions(self, request: Any) -> Any:
        caller = self._party("GetPaymentInstructions")
        if self.case_creditors.get(request.case_id) != caller.tenant_id:
            raise status_for(NotFound(f"no case {request.case_id}"))
        return settlement_pb2.PaymentInstructions(
            case_id=request.case_id,
            beneficiary_name="Recouvra SAS - fonds de tiers",
            iban="FR7630006000011234567890189",
            iban_formatted="FR76 3000 6000 0112 3456 7890 189",
            bic="AGRIFRPP",
            reference="RF18539007547034",
            reference_formatted="RF18 5390 0754 7034",
        )


def invoice(invoice_id: str, number: str, case_id: str = "case-a") -> settlement_pb2.InvoiceSummary:
    return settlement_pb2.InvoiceSummary(
        invoice_id=invoice_id,
        number=number,
        kind="provider-fee",
        case_id=case_id,
        issued_on="2026-12-03",
        due_on="2027-01-02",
        seller_name="Etude Lambert",
        buyer_name="Acme SAS",
        amount_excl_vat=_eur(18_000),
        vat=_eur(3_600),
        total=_eur(21_600),
    )


@pytest.fixture
def cases() -> FakeCases:
    return FakeCases()


@pytest.fixture
def settlement() -> FakeSettlement:
    return FakeSettlement()


@pytest.fixture
def app(
    store: FakeStore,
    passwords: Passwords,
    tokens: Tokens,
    cases: FakeCases,
    settlement: FakeSettlement,
) -> FastAPI:
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    wired = replace(services, intake=IntakeClient(cases), settlement=SettlementClient(settlement))
    return create_app(wired, {})


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def creditor(client: httpx.AsyncClient, email: str) -> tuple[str, dict[str, str]]:
    headers = await sign_up(client, email)
    return (await client.get("/v1/me", headers=headers)).json()["organisation_id"], headers


async def test_a_creditor_lists_and_downloads_its_invoices_and_another_gets_404(
    client: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    bob_id, bob = await creditor(client, "bob@example.fr")
    settlement.invoices["inv-1"] = (alice_id, invoice("inv-1", "HON-prov-1-000001"))

    listed = await client.get("/v1/invoices", headers=alice)
    assert listed.status_code == 200, listed.text
    (view,) = listed.json()["items"]
    assert view["number"] == "HON-prov-1-000001"
    assert view["href"] == "/v1/invoices/inv-1/pdf"
    assert (view["amount_excl_vat"], view["vat"], view["total"]) == (
        {"currency": "EUR", "amount": "180.00"},
        {"currency": "EUR", "amount": "36.00"},
        {"currency": "EUR", "amount": "216.00"},
    )
    pdf = await client.get(view["href"], headers=alice)
    assert pdf.status_code == 200
    assert pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"] == 'attachment; filename="HON-prov-1-000001.pdf"'
    assert pdf.headers["cache-control"] == "private, no-store"

    assert (await client.get("/v1/invoices", headers=bob)).json()["items"] == []
    foreign = await client.get("/v1/invoices/inv-1/pdf", headers=bob)
    missing = await client.get("/v1/invoices/inv-404/pdf", headers=bob)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.headers["content-type"] == PROBLEM
    assert foreign.json()["detail"] == missing.json()["detail"]
    # Settlement was asked as the creditor each was, never as someone the client named.
    asked = {(c.kind, c.tenant_id) for _, c in settlement.callers if c is not None}
    assert asked == {("creditor", alice_id), ("creditor", bob_id)}


async def test_a_creditor_downloads_its_statement_as_csv_or_pdf(
    client: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    csv = await client.get("/v1/statements/2026-12", headers=alice)
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text == f"date;entry_no;{alice_id}\r\n"
    name = f"statement-creditor-{alice_id}-2026-12.csv"
    assert csv.headers["content-disposition"] == f'attachment; filename="{name}"'
    pdf = await client.get("/v1/statements/2026-12", params={"format": "pdf"}, headers=alice)
    assert (pdf.status_code, pdf.content) == (200, PDF)


@pytest.mark.parametrize("month", ["2026-13", "26-12", "2026-1"])
async def test_a_month_that_is_no_month_is_refused_by_name(
    client: httpx.AsyncClient, settlement: FakeSettlement, month: str
) -> None:
    _, alice = await creditor(client, "alice@example.fr")
    refused = await client.get(f"/v1/statements/{month}", headers=alice)
    assert refused.status_code == 422
    assert "month" in fields_of(refused)
    assert settlement.callers == []


async def test_settlements_own_refusal_of_a_month_names_the_field(
    client: httpx.AsyncClient,
) -> None:
    _, alice = await creditor(client, "alice@example.fr")
    refused = await client.get("/v1/statements/2100-01", headers=alice)
    assert refused.status_code == 422
    assert fields_of(refused) == {"month": "YYYY-MM, a month that has begun"}


async def test_a_bad_format_is_refused_by_name(client: httpx.AsyncClient) -> None:
    _, alice = await creditor(client, "alice@example.fr")
    refused = await client.get("/v1/statements/2026-12", params={"format": "xls"}, headers=alice)
    assert refused.status_code == 422
    assert "format" in fields_of(refused)


async def test_a_creditor_lists_its_payouts_in_the_apis_money_shape(
    client: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    _, bob = await creditor(client, "bob@example.fr")
    settlement.payouts[alice_id] = [
        settlement_pb2.PartyPayout(
            batch_id="b-1",
            line_id="l-1",
            value_date="2026-12-10",
            kind="transfer",
            gross=_eur(82_000),
            offset=_eur(1_500),
            amount=_eur(80_500),
            iban_last4="3000",
        )
    ]
    listed = await client.get("/v1/payouts", headers=alice)
    assert listed.status_code == 200, listed.text
    assert listed.json()["items"] == [
        {
            "batch_id": "b-1",
            "line_id": "l-1",
            "value_date": "2026-12-10",
            "kind": "transfer",
            "gross": {"currency": "EUR", "amount": "820.00"},
            "offset": {"currency": "EUR", "amount": "15.00"},
            "amount": {"currency": "EUR", "amount": "805.00"},
            "iban_last4": "3000",
        }
    ]
    assert (await client.get("/v1/payouts", headers=bob)).json()["items"] == []


async def test_payment_instructions_of_a_case_for_its_creditor_only(
    client: httpx.AsyncClient, cases: FakeCases, settlement: FakeSettlement
) -> None:
    alice_id, alice = await creditor(client, "alice@example.fr")
    _, bob = await creditor(client, "bob@example.fr")
    cases.creditors["case-a"] = alice_id
    settlement.case_creditors["case-a"] = alice_id

    mine = await client.get("/v1/cases/case-a/payment-instructions", headers=alice)
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["reference"], body["iban"], body["amount_due"]) == (
        "RF18539007547034",
        "FR7630006000011234567890189",
        None,
    )
    foreign = await client.get("/v1/cases/case-a/payment-instructions", headers=bob)
    missing = await client.get("/v1/cases/case-z/payment-instructions", headers=bob)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"] == missing.json()["detail"]
    # Intake refused bob's ask before settlement heard of it.
    assert [rpc for rpc, _ in settlement.callers] == ["GetPaymentInstructions"]


async def test_a_provider_reads_its_fee_statement_and_no_creditor_route(
    client: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    provider_id, provider = await sign_up_provider(client, "etude@example.fr")
    statement = await client.get("/v1/provider/statements/2026-11", headers=provider)
    assert statement.status_code == 200, statement.text
    assert statement.text == f"date;entry_no;{provider_id}\r\n"
    (_, caller), *_ = settlement.callers
    assert caller is not None
    assert (caller.kind, caller.tenant_id) == ("provider", provider_id)
    for path in ("/v1/invoices", "/v1/payouts", "/v1/statements/2026-11"):
        assert (await client.get(path, headers=provider)).status_code == 403


async def test_a_creditor_has_no_provider_statement_and_strangers_nothing(
    client: httpx.AsyncClient, settlement: FakeSettlement
) -> None:
    _, alice = await creditor(client, "alice@example.fr")
    assert (await client.get("/v1/provider/statements/2026-11", headers=alice)).status_code == 403
    for path in ("/v1/invoices", "/v1/payouts", "/v1/provider/statements/2026-11"):
        assert (await client.get(path)).status_code == 401
    assert settlement.callers == []
