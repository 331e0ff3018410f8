"""Issued invoices in PostgreSQL: kept as issued (a trigger refuses any change), numbered from a
counter row per series that the issuing transaction holds locked until it ends."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.orm import invoice_counters, invoice_documents, invoices
from settlement.domain.documents import Reader
from settlement.domain.invoices import (
    Invoice,
    InvoiceKind,
    InvoiceParty,
    InvoiceToIssue,
    PartyRole,
)


def content_of(to_issue: InvoiceToIssue) -> dict[str, Any]:
    """What was invoiced, as JSON."""
    found = asdict(to_issue)
    for name in ("service_date", "issued_on"):
        found[name] = found[name].isoformat()
    return found


def _party(data: Mapping[str, Any]) -> InvoiceParty:
    return InvoiceParty(**{**data, "role": PartyRole(data["role"])})


def to_issue_of(content: Mapping[str, Any]) -> InvoiceToIssue:
    """What was invoiced, from its JSON."""
    return InvoiceToIssue(
        **{
            **content,
            "kind": InvoiceKind(content["kind"]),
            "seller": _party(content["seller"]),
            "buyer": _party(content["buyer"]),
            "service_date": date.fromisoformat(content["service_date"]),
            "issued_on": date.fromisoformat(content["issued_on"]),
        }
    )


def _invoice(row: Mapping[Any, Any]) -> Invoice:
    return Invoice(
        str(row["invoice_id"]), row["series"], row["sequence"], to_issue_of(row["content"])
    )


_LISTED = [c for c in invoices.c if c.name != "pdf"]


class SqlInvoices:
    """The invoices and invoice_counters tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_fact(self, fact_key: str, kind: InvoiceKind) -> Invoice | None:
        row = (
            (
                await self.session.execute(
                    select(*_LISTED).where(
                        invoices.c.fact_key == fact_key, invoices.c.kind == kind.value
                    )
                )
            )
            .mappings()
            .first()
        )
        return _invoice(row) if row is not None else None

    async def next_sequence(self, series: str) -> int:
        # The upsert locks the counter row until this transaction ends: a concurrent issue in
        # the same series waits, and a rollback undoes the increment.
        statement = insert(invoice_counters).values(series=series, last_sequence=1)
        found = await self.session.scalar(
            statement.on_conflict_do_update(
                index_elements=["series"],
                set_={"last_sequence": invoice_counters.c.last_sequence + 1},
            ).returning(invoice_counters.c.last_sequence)
        )
        assert found is not None
        return int(found)

    async def add(self, invoice: Invoice) -> bool:
        to_issue = invoice.to_issue
        inserted = await self.session.scalar(
            insert(invoices)
            .values(
                invoice_id=invoice.invoice_id,
                series=invoice.series,
                sequence=invoice.sequence,
                kind=to_issue.kind.value,
                fact_key=to_issue.fact_key,
                case_id=to_issue.case_id,
                seller_role=to_issue.seller.role.value,
                seller_id=to_issue.seller.party_id,
                buyer_role=to_issue.buyer.role.value,
                buyer_id=to_issue.buyer.party_id,
                issued_on=to_issue.issued_on,
                amount_excl_vat=to_issue.amount_excl_vat,
                vat_amount=to_issue.vat_amount,
                content=content_of(to_issue),
            )
            .on_conflict_do_nothing(constraint="one_invoice_per_fact")
            .returning(invoices.c.invoice_id)
        )
        return inserted is not None

    async def readable_by(self, reader: Reader) -> list[Invoice]:
        query = select(*_LISTED).order_by(
            invoices.c.issued_on.desc(), invoices.c.series, invoices.c.sequence.desc()
        )
        if not reader.is_operator:
            assert reader.role is not None
            role = reader.role.value
            query = query.where(
                or_(
                    (invoices.c.seller_role == role) & (invoices.c.seller_id == reader.party_id),
                    (invoices.c.buyer_role == role) & (invoices.c.buyer_id == reader.party_id),
                )
            )
        return [_invoice(row) for row in (await self.session.execute(query)).mappings()]

    async def store_pdf(self, invoice_id: str, pdf: bytes) -> None:
        await self.session.execute(
            insert(invoice_documents)
            .values(invoice_id=invoice_id, pdf=pdf)
            .on_conflict_do_nothing(index_elements=["invoice_id"])
        )

    async def pdf_of(self, invoice_id: str) -> bytes | None:
        found = await self.session.scalar(
            select(func.coalesce(invoice_documents.c.pdf, invoices.c.pdf))
            .select_from(invoices.outerjoin(invoice_documents))
            .where(invoices.c.invoice_id == invoice_id)
        )
        return bytes(found) if found is not None else None

    async def with_pdf(self, invoice_id: str) -> tuple[Invoice, bytes | None] | None:
        row = (
            (
                await self.session.execute(
                    select(*_LISTED).where(invoices.c.invoice_id == invoice_id)
                )
            )
            .mappings()
            .first()
        )
        return (_invoice(row), await self.pdf_of(invoice_id)) if row is not None else None
