"""A statement as a PDF, rendered by WeasyPrint from a Jinja2 template."""

from __future__ import annotations

import asyncio
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import HTML

from settlement.domain.invoices import money_text
from settlement.domain.statements import Statement, account_label

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_ROLES = {"creditor": "du créancier", "provider": "du prestataire"}


def _signed(cents: int) -> str:
    return ("-" if cents < 0 else "") + money_text(abs(cents))


def statement_html(found: Statement) -> str:
    """The statement's pages: per account, opening balance, movements, closing balance."""
    closing = found.closing
    accounts = [
        (
            code,
            account_label(code),
            _signed(opening),
            _signed(closing[code]),
            [
                {
                    "date": f"{m.booked_on:%d/%m/%Y}",
                    "entry_no": m.entry_no,
                    "case_id": m.case_id,
                    "description": m.description,
                    "debit": money_text(m.debit) if m.debit else "",
                    "credit": money_text(m.credit) if m.credit else "",
                }
                for m in found.movements
                if m.account == code
            ],
        )
        for code, opening in found.opening.items()
    ]
    return _TEMPLATES.get_template("statement.html").render(
        statement=found,
        role_label=_ROLES[found.role.value],
        first=f"{found.month.first:%d/%m/%Y}",
        last=f"{found.month.last:%d/%m/%Y}",
        accounts=accounts,
    )


def statement_pdf(found: Statement) -> bytes:
    """The statement as a PDF."""
    return bytes(HTML(string=statement_html(found)).write_pdf())


async def render_statement_pdf(found: Statement) -> bytes:
    """The statement as a PDF, rendered off the event loop."""
    return await asyncio.to_thread(statement_pdf, found)
