"""`python -m settlement statement` and `python -m settlement invoices`: documents for operators,
read with an operator's reach (every party)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from recouvra_shared.errors import Refusal
from settlement.adapters.statement_document import render_statement_pdf
from settlement.domain.documents import Reader
from settlement.domain.invoices import PartyRole, money_text
from settlement.domain.statements import month_of, statement_csv
from settlement.service_layer.invoice_issuing import pending_invoices
from settlement.service_layer.invoices import invoice_document, invoices_for
from settlement.service_layer.statements import statement_for
from settlement.service_layer.unit_of_work import SettlementUnitOfWork

Units = Callable[[], SettlementUnitOfWork]
OPERATOR = Reader(None)


def _refused(refused: Refusal, out: TextIO) -> int:
    for violation in refused.violations or ():
        out.write(f"refused: {violation.field}: {violation.rule}\n")
    if not refused.violations:
        out.write(f"refused: {refused}\n")
    return 2


async def statement(units: Units, args: Sequence[str], out: TextIO) -> int:
    """Write a creditor's or provider's monthly statement (CSV or PDF) in --output."""
    parser = argparse.ArgumentParser(
        prog="python -m settlement statement",
        description="A party's monthly statement: opening balance, movements, closing balance.",
    )
    party = parser.add_mutually_exclusive_group(required=True)
    party.add_argument("--creditor", help="the creditor's id")
    party.add_argument("--provider", help="the provider's id")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--format", choices=("csv", "pdf"), default="csv")
    parser.add_argument("--output", type=Path, default=Path("."), help="folder to write in")
    options = parser.parse_args(args)
    role = PartyRole.CREDITOR if options.creditor else PartyRole.PROVIDER
    try:
        found = await statement_for(
            units(), OPERATOR, role, options.creditor or options.provider, month_of(options.month)
        )
    except Refusal as refused:
        return _refused(refused, out)
    content = statement_csv(found) if options.format == "csv" else await render_statement_pdf(found)
    target = options.output / f"{found.file_stem}.{options.format}"
    target.write_bytes(content)
    out.write(f"{target}\n")
    return 0


async def invoices(units: Units, args: Sequence[str], out: TextIO) -> int:
    """List every invoice, or write one's Factur-X PDF with --download ID."""
    parser = argparse.ArgumentParser(
        prog="python -m settlement invoices",
        description="Every fee invoice, newest first; --download writes one's Factur-X PDF.",
    )
    parser.add_argument("--download", metavar="INVOICE_ID", help="the invoice to write")
    parser.add_argument(
        "--pending", action="store_true", help="invoices fees call for, not issued yet, and why"
    )
    parser.add_argument("--output", type=Path, default=Path("."), help="folder to write in")
    options = parser.parse_args(args)
    if options.download:
        try:
            invoice, pdf = await invoice_document(units(), OPERATOR, options.download)
        except Refusal as refused:
            return _refused(refused, out)
        target = options.output / f"{invoice.number}.pdf"
        target.write_bytes(pdf)
        out.write(f"{target}\n")
        return 0
    if options.pending:
        for request in await pending_invoices(units()):
            out.write(
                f"{request.fact_key}  {request.kind}  {request.case_id}  "
                f"{request.seller_role} {request.seller_id} -> "
                f"{request.buyer_role} {request.buyer_id}  {money_text(request.amount_excl_vat)}"
                f"  waiting: {request.waiting_for or 'the issuer (next pass)'}\n"
            )
        return 0
    for invoice in await invoices_for(units(), OPERATOR):
        to_issue = invoice.to_issue
        out.write(
            f"{invoice.invoice_id}  {invoice.number}  {to_issue.issued_on}  {to_issue.kind}  "
            f"{to_issue.seller.name} -> {to_issue.buyer.name}  {money_text(invoice.total)}\n"
        )
    return 0
