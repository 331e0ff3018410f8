"""A creditor's money on one page, as settlement keeps it: payouts released, the fee invoices
issued to it (each a Factur-X PDF to download) and the monthly statement (CSV or PDF). The same
client and caller as /v1/payouts, /v1/invoices and /v1/statements: settlement checks the tenancy
again, so another creditor's invoice answers 404 like one that does not exist. When settlement
does not answer, each list says so and the page still opens."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from gateway.adapters.settlement import SettlementClient
from gateway.entrypoints.api.deps import ActingCaller, Settlement
from gateway.entrypoints.api.settlement import InvoiceId, file_response
from gateway.entrypoints.web.page_deps import PageCaller, page_request, pages_of
from gateway.entrypoints.web.rendering import language_of
from gateway.entrypoints.web.rules_fr import rule_in
from gateway.schemas.settlement import InvoiceView, PayoutView
from recouvra_shared.errors import Unavailable

router = APIRouter(include_in_schema=False, dependencies=[Depends(page_request)])

MONTH = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
FORMATS = ("pdf", "csv")


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


async def _lists(caller: ActingCaller, settlement: SettlementClient) -> dict[str, Any]:
    """Payouts and invoices, or `None` for a list settlement could not give now."""
    found: dict[str, Any] = {}
    try:
        found["payouts"] = [PayoutView.of(p) for p in await settlement.payouts(caller.as_creditor)]
    except Unavailable:
        found["payouts"] = None
    try:
        found["invoices"] = [
            InvoiceView.of(i, f"/money/invoices/{i.invoice_id}")
            for i in await settlement.invoices(caller.as_creditor)
        ]
    except Unavailable:
        found["invoices"] = None
    return found


@router.get("/money")
async def money_page(request: Request, caller: PageCaller, settlement: Settlement) -> HTMLResponse:
    """Payouts newest first, invoices newest first, and the statement form."""
    context = await _lists(caller, settlement)
    return pages_of(request).render(
        request, "money.html", context | {"values": {"month": _this_month(), "format": "pdf"}}
    )


@router.get("/money/invoices/{invoice_id}")
async def download_invoice(
    invoice_id: InvoiceId, caller: PageCaller, settlement: Settlement
) -> Response:
    """The invoice's Factur-X PDF; another creditor's invoice is 404."""
    return file_response(await settlement.invoice_pdf(caller.as_creditor, invoice_id))


@router.get("/money/statement")
async def download_statement(
    request: Request, caller: PageCaller, settlement: Settlement
) -> Response:
    """The month's statement as a file; a month or format the form did not offer comes back
    to the page with the rule beside the field, and nothing is asked of settlement."""
    month = request.query_params.get("month", "").strip()
    file_format = request.query_params.get("format", "pdf")
    errors: dict[str, str] = {}
    if not MONTH.fullmatch(month):
        errors["month"] = "must be a calendar month, YYYY-MM"
    elif month > _this_month():
        errors["month"] = "must not be in the future"
    if file_format not in FORMATS:
        errors["format"] = "must be pdf or csv"
    if errors:
        language = language_of(request)
        shown = {field: rule_in(language, rule) for field, rule in errors.items()}
        context = await _lists(caller, settlement)
        return pages_of(request).render(
            request,
            "money.html",
            context | {"errors": shown, "values": {"month": month, "format": file_format}},
            status_code=422,
        )
    return file_response(await settlement.statement(caller.as_creditor, month, file_format))
