"""The invoice_requests and billing_identities tables in memory."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

from settlement.domain.invoice_requests import InvoiceRequest
from settlement.domain.invoices import InvoiceParty, PartyRole

if TYPE_CHECKING:
    from services.settlement.tests.unit.fakes import Tables


@dataclass
class InvoiceRequestTables:
    """Requests by (fact, kind) with when each was made; identities by (role, party id)."""

    requests: dict[tuple[str, str], tuple[InvoiceRequest, datetime]] = field(default_factory=dict)
    identities: dict[tuple[PartyRole, str], InvoiceParty] = field(default_factory=dict)


def _key(request: InvoiceRequest) -> tuple[str, str]:
    return request.fact_key, request.kind.value


class FakeInvoiceRequests:
    """The invoice request repository on the fake tables."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    @property
    def kept(self) -> InvoiceRequestTables:
        return self.tables.invoice_requests

    async def add(self, request: InvoiceRequest, requested_at: datetime) -> None:
        self.kept.requests.setdefault(_key(request), (request, requested_at))

    async def pending(self, limit: int | None = None) -> list[InvoiceRequest]:
        found = sorted(
            (r for r in self.kept.requests.values() if r[0].invoice_id is None),
            key=lambda r: (r[0].waiting_for is not None, r[1], _key(r[0])),
        )
        return [request for request, _ in found][:limit]

    async def mark_waiting(self, request: InvoiceRequest, reason: str) -> None:
        kept, at = self.kept.requests[_key(request)]
        self.kept.requests[_key(request)] = (replace(kept, waiting_for=reason[:300]), at)

    async def mark_issued(self, request: InvoiceRequest, invoice_id: str) -> None:
        kept, at = self.kept.requests[_key(request)]
        issued = replace(kept, invoice_id=invoice_id, waiting_for=None)
        self.kept.requests[_key(request)] = (issued, at)

    async def identity(self, role: PartyRole, party_id: str) -> InvoiceParty | None:
        return self.kept.identities.get((role, party_id))

    async def save_identity(self, party: InvoiceParty, operator: str, at: datetime) -> None:
        self.kept.identities[(party.role, party.party_id)] = party
