"""Money, as creditors and providers read it from settlement: a creditor's fee invoices (list
and Factur-X PDF), monthly statement, payouts and a case's payment instructions; a provider's
statement of its fees. Settlement checks the tenancy again: a party reads only its own, and
another party's invoice or case answers 404, exactly like a missing one. Operators' actions
(statement import, suspense, payout approval) stay on settlement's command line."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from pydantic import AfterValidator

from gateway.adapters.settlement import SettlementDocument
from gateway.entrypoints.api.deps import (
    CaseId,
    CurrentCaller,
    CurrentProvider,
    Intake,
    Settlement,
)
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.common import plain_text
from gateway.schemas.settlement import (
    InvoiceList,
    InvoiceView,
    PaymentInstructionsView,
    PayoutList,
    PayoutView,
)

creditor_router = APIRouter(prefix="/v1", tags=["money"], responses=problem_responses(401, 403))
provider_router = APIRouter(
    prefix="/v1/provider", tags=["money"], responses=problem_responses(401, 403)
)

InvoiceId = Annotated[
    str,
    Path(max_length=64, description="The invoice id", examples=["5a1c2e3f-4b5d-4e6f-8a7b"]),
    AfterValidator(plain_text),
]
Month = Annotated[
    str,
    Path(
        pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$",
        description="The calendar month, YYYY-MM",
        examples=["2026-12"],
    ),
]
StatementFormat = Annotated[
    Literal["csv", "pdf"],
    Query(alias="format", description="csv (UTF-8, `;`, amounts with a point) or pdf"),
]
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file, with Content-Disposition: attachment and its name",
        "content": {
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/csv": {"schema": {"type": "string"}},
        },
    },
    **problem_responses(401, 403, 404, 422, 503),
}


# Settlement names its files from invoice numbers and party ids; anything else is replaced.
_UNSAFE_IN_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def file_response(document: SettlementDocument) -> Response:
    name = _UNSAFE_IN_FILE_NAME.sub("_", document.file_name) or "document"
    return Response(
        document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


# --- the creditor (or a partner acting for it) -------------------------------------------------


@creditor_router.get(
    "/invoices",
    summary="Your fee invoices (the providers' success fees, issued on their behalf)",
    response_model=InvoiceList,
    responses=problem_responses(401, 403, 422, 503),
)
async def list_invoices(caller: CurrentCaller, settlement: Settlement) -> InvoiceList:
    """Newest first; each downloads as a Factur-X PDF from its `href`."""
    found = await settlement.invoices(caller.as_creditor)
    return InvoiceList(items=[InvoiceView.of(i, f"/v1/invoices/{i.invoice_id}/pdf") for i in found])


@creditor_router.get(
    "/invoices/{invoice_id}/pdf",
    summary="Download a fee invoice (Factur-X PDF)",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def download_invoice(
    invoice_id: InvoiceId, caller: CurrentCaller, settlement: Settlement
) -> Response:
    """Another creditor's invoice is 404, exactly like one that does not exist."""
    return file_response(await settlement.invoice_pdf(caller.as_creditor, invoice_id))


@creditor_router.get(
    "/statements/{month}",
    summary="Your monthly statement: funds held for you and fees you owe, line by line",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def creditor_statement(
    month: Month,
    caller: CurrentCaller,
    settlement: Settlement,
    file_format: StatementFormat = "csv",
) -> Response:
    """Opening balance, every movement of the month, closing balance (the ledger's)."""
    return file_response(await settlement.statement(caller.as_creditor, month, file_format))


@creditor_router.get(
    "/payouts",
    summary="Payouts released to you, newest first",
    response_model=PayoutList,
    responses=problem_responses(401, 403, 422, 503),
)
async def list_payouts(caller: CurrentCaller, settlement: Settlement) -> PayoutList:
    """Each batch was approved by two operators before it left."""
    return PayoutList(
        items=[PayoutView.of(p) for p in await settlement.payouts(caller.as_creditor)]
    )


@creditor_router.get(
    "/cases/{case_id}/payment-instructions",
    summary="Where the debtor of a case pays, and the reference that matches it to the case",
    response_model=PaymentInstructionsView,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def payment_instructions(
    case_id: CaseId, caller: CurrentCaller, intake: Intake, settlement: Settlement
) -> PaymentInstructionsView:
    """Another creditor's case is 404, exactly like a case that does not exist (a case just
    submitted may answer 404 for the moment settlement takes to hear of it)."""
    await intake.require_case(caller.caller, caller.creditor_id, case_id)
    found = await settlement.payment_instructions(caller.as_creditor, case_id)
    return PaymentInstructionsView.of(found)


# --- the provider ------------------------------------------------------------------------------


@provider_router.get(
    "/statements/{month}",
    summary="Your monthly fee statement: fees earned, the platform's commission, payouts",
    response_class=Response,
    responses=FILE_RESPONSES,
)
async def provider_statement(
    month: Month,
    provider: CurrentProvider,
    settlement: Settlement,
    file_format: StatementFormat = "csv",
) -> Response:
    """Opening balance, every movement of the month, closing balance (the ledger's)."""
    return file_response(await settlement.statement(provider.caller, month, file_format))
