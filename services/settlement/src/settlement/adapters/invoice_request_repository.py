"""The invoices fees call for, and the parties' billing identities, in PostgreSQL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from settlement.adapters.orm import billing_identities, invoice_requests
from settlement.domain.invoice_requests import InvoiceRequest
from settlement.domain.invoices import InvoiceKind, InvoiceParty, PartyRole


def _request(row: Mapping[Any, Any]) -> InvoiceRequest:
    return InvoiceRequest(
        kind=InvoiceKind(row["kind"]),
        fact_key=row["fact_key"],
        case_id=row["case_id"],
        seller_role=PartyRole(row["seller_role"]),
        seller_id=row["seller_id"],
        buyer_role=PartyRole(row["buyer_role"]),
        buyer_id=row["buyer_id"],
        description=row["description"],
        amount_excl_vat=row["amount_excl_vat"],
        vat_rate_bp=row["vat_rate_bp"],
        vat_amount=row["vat_amount"],
        service_date=row["service_date"],
        waiting_for=row["waiting_for"],
        invoice_id=str(row["invoice_id"]) if row["invoice_id"] else None,
    )


def _key(request: InvoiceRequest) -> Any:
    return (invoice_requests.c.fact_key == request.fact_key) & (
        invoice_requests.c.kind == request.kind.value
    )


class SqlInvoiceRequests:
    """The invoice_requests and billing_identities tables."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, request: InvoiceRequest, requested_at: datetime) -> None:
        await self.session.execute(
            insert(invoice_requests)
            .values(
                fact_key=request.fact_key,
                kind=request.kind.value,
                case_id=request.case_id,
                seller_role=request.seller_role.value,
                seller_id=request.seller_id,
                buyer_role=request.buyer_role.value,
                buyer_id=request.buyer_id,
                description=request.description,
                amount_excl_vat=request.amount_excl_vat,
                vat_rate_bp=request.vat_rate_bp,
                vat_amount=request.vat_amount,
                service_date=request.service_date,
                requested_at=requested_at,
            )
            .on_conflict_do_nothing(index_elements=["fact_key", "kind"])
        )

    async def pending(self, limit: int | None = None) -> list[InvoiceRequest]:
        query = (
            select(invoice_requests)
            .where(invoice_requests.c.invoice_id.is_(None))
            .order_by(
                invoice_requests.c.waiting_for.is_not(None),
                invoice_requests.c.requested_at,
                invoice_requests.c.fact_key,
                invoice_requests.c.kind,
            )
            .limit(limit)
        )
        return [_request(row) for row in (await self.session.execute(query)).mappings()]

    async def mark_waiting(self, request: InvoiceRequest, reason: str) -> None:
        await self.session.execute(
            update(invoice_requests).where(_key(request)).values(waiting_for=reason[:300])
        )

    async def mark_issued(self, request: InvoiceRequest, invoice_id: str) -> None:
        await self.session.execute(
            update(invoice_requests)
            .where(_key(request))
            .values(invoice_id=invoice_id, waiting_for=None)
        )

    async def identity(self, role: PartyRole, party_id: str) -> InvoiceParty | None:
        row = (
            (
                await self.session.execute(
                    select(billing_identities).where(
                        billing_identities.c.party_role == role.value,
                        billing_identities.c.party_id == party_id,
                    )
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        return InvoiceParty(
            role, party_id, row["name"], row["address"], row["postcode"], row["city"],
            row["siren"], row["vat_number"], row["country"],
        )  # fmt: skip

    async def save_identity(self, party: InvoiceParty, operator: str, at: datetime) -> None:
        values = {
            "name": party.name,
            "address": party.address,
            "postcode": party.postcode,
            "city": party.city,
            "siren": party.siren,
            "vat_number": party.vat_number,
            "country": party.country,
            "entered_by": operator,
            "entered_at": at,
        }
        await self.session.execute(
            insert(billing_identities)
            .values(party_role=party.role.value, party_id=party.party_id, **values)
            .on_conflict_do_update(index_elements=["party_role", "party_id"], set_=values)
        )
