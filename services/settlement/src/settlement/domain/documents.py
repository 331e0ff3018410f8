"""Who may read which invoice or statement: a creditor its own, a provider its own, an operator
all; anything else answers as if it did not exist."""

from __future__ import annotations

from dataclasses import dataclass

from recouvra_shared.errors import NotFound, PermissionDenied
from settlement.domain.invoices import Invoice, PartyRole

OPERATOR = "operator"


class InvoiceNotFound(NotFound):
    """No invoice with this id that the caller may read."""


@dataclass(frozen=True)
class Reader:
    """Who asks: an operator (`party` None), or a creditor or provider for its own documents."""

    role: PartyRole | None
    party_id: str | None = None

    @property
    def is_operator(self) -> bool:
        """Whether the reader sees every party's documents."""
        return self.role is None


def reader_of(kind: str, tenant_id: str | None) -> Reader:
    """The reader a caller is; only operators, creditors and providers read documents."""
    if kind == OPERATOR:
        return Reader(None)
    if kind in (PartyRole.CREDITOR, PartyRole.PROVIDER) and tenant_id:
        return Reader(PartyRole(kind), tenant_id)
    raise PermissionDenied(f"a {kind or 'caller'} reads no invoice or statement here")


def may_read(reader: Reader, invoice: Invoice) -> bool:
    """Whether the reader is a party to the invoice (or an operator)."""
    if reader.is_operator:
        return True
    to_issue = invoice.to_issue
    return any(
        (party.role, party.party_id) == (reader.role, reader.party_id)
        for party in (to_issue.seller, to_issue.buyer)
    )


def may_read_party(reader: Reader, role: PartyRole, party_id: str) -> bool:
    """Whether the reader may read a party's statement: its own, or any for an operator."""
    return reader.is_operator or (reader.role, reader.party_id) == (role, party_id)
