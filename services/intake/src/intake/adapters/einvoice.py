"""Reading e-invoices: Factur-X / ZUGFeRD PDF (embedded CII XML), UN/CEFACT CII XML and OASIS
UBL 2.1 XML, through the `factur-x` library, which maps both syntaxes to EN 16931 business
terms (BT-1 invoice number, BT-2 issue date, BT-9 due date, BG-7 buyer...)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import facturx  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]

from intake.domain.commands import ImportEInvoice, SubmitCase
from intake.domain.debtors import COMPANY, CONSUMER, DebtorInput
from intake.domain.errors import InvalidField
from intake.domain.invoices import InvoiceInput
from intake.domain.seller import ReadInvoice, Seller

MAX_BYTES = 20 * 1024 * 1024
# ISO 6523 schemes of French company identifiers: 0002 = SIREN, 0009 = SIRET.
FRENCH_COMPANY_SCHEMES = {"0002", "0009"}
FORMATS = {"factur-x": "cii", "ubl-2.1-invoice": "ubl"}


def _hardened_tree(xml: bytes) -> Any:
    """Parse XML with entity expansion and network access turned off (no XXE)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.fromstring(xml, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidField("content", f"is not well-formed XML ({exc})") from None


def _embedded_xml(pdf: bytes) -> bytes:
    try:
        _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    except Exception as exc:
        raise InvalidField("content", f"is not a readable PDF ({exc})") from None
    if not xml:
        raise InvalidField("content", "is a PDF without an embedded Factur-X/ZUGFeRD invoice XML")
    return bytes(xml)


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _date_text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else _text(value)


def read_einvoice(
    content: bytes, creditor_id: str, *, disputed: bool, notes: str, amount_due: str
) -> ReadInvoice:
    """Read an e-invoice file into a submission; InvalidField('content', ...) if unreadable."""
    if not content:
        raise InvalidField("content", "is required")
    if len(content) > MAX_BYTES:
        raise InvalidField("content", f"must be at most {MAX_BYTES >> 20} MiB")
    is_pdf = content.lstrip()[:5] == b"%PDF-"
    tree = _hardened_tree(_embedded_xml(content) if is_pdf else content)
    try:
        flavor = facturx.get_flavor(tree)
    except Exception:
        flavor = ""
    if flavor not in FORMATS:
        raise InvalidField(
            "content", "is not a Factur-X/ZUGFeRD PDF, a CII invoice or a UBL 2.1 invoice"
        )
    try:
        data = facturx.parse_ubl_cii_xml(tree, flavor=flavor, check_xsd=True)
    except Exception as exc:
        raise InvalidField("content", f"does not follow the {flavor} schema ({exc})") from None
    return ReadInvoice(
        format="factur-x" if is_pdf else FORMATS[flavor],
        command=_submission(data, creditor_id, disputed, notes, amount_due),
        seller=_seller(data),
    )


async def read_in_thread(command: ImportEInvoice, creditor_id: str) -> ReadInvoice:
    """Read the command's e-invoice off the event loop: schema validation is CPU work, and the
    loop keeps serving other calls meanwhile."""
    return await asyncio.to_thread(
        read_einvoice,
        command.content,
        creditor_id,
        disputed=command.disputed,
        notes=command.notes,
        amount_due=command.amount_due,
    )


def _seller(data: dict[str, Any]) -> Seller:
    seller: dict[str, Any] = data.get("BG-4") or {}
    return Seller(
        name=_text(seller.get("name")),
        legal_identifier=_text(seller.get("legal_identifier")),
        legal_scheme=_text(seller.get("legal_identifier_schemeid")),
        country_code=_text(seller.get("country_code")),
        vat_number=_text(seller.get("vat_identifier")),
    )


def _submission(
    data: dict[str, Any], creditor_id: str, disputed: bool, notes: str, amount_due: str
) -> SubmitCase:
    buyer: dict[str, Any] = data.get("BG-7") or {}
    scheme = _text(buyer.get("legal_identifier_schemeid"))
    legal_id = _text(buyer.get("legal_identifier"))
    siren_or_siret = legal_id if scheme in FRENCH_COMPANY_SCHEMES else ""
    vat_number = _text(buyer.get("vat_identifier"))
    # A buyer identified as a business is a company; an unidentified one is treated as a
    # consumer, the cautious side (no interest, no indemnity, short prescription).
    kind = COMPANY if (legal_id or vat_number) else CONSUMER
    contacts = buyer.get("contacts") or [{}]
    contact: dict[str, Any] = contacts[0] if contacts else {}
    due = data.get("BT-9")
    if due is None:
        raise InvalidField("content", "the invoice has no payment due date (BT-9)")
    total = _text(data.get("BT-112"))
    due_amount = amount_due.strip() or _text(data.get("BT-115")) or total
    return SubmitCase(
        creditor_id=creditor_id,
        debtor=DebtorInput(
            kind=kind,
            name=_text(buyer.get("name")),
            siren_or_siret=siren_or_siret,
            vat_number=vat_number,
            address_lines=tuple(
                _text(buyer.get(k)) for k in ("addr_l1", "addr_l2", "addr_l3") if buyer.get(k)
            ),
            postal_code=_text(buyer.get("postcode")),
            city=_text(buyer.get("city")),
            country_code=_text(buyer.get("country_code")),
            email=_text(contact.get("email")),
            phone=_text(contact.get("phone")),
        ),
        invoices=(
            InvoiceInput(
                invoice_number=_text(data.get("BT-1")),
                issue_date=_date_text(data.get("BT-2")),
                due_date=_date_text(due),
                currency=_text(data.get("BT-5")),
                amount_due=due_amount,
                total_amount=total,
            ),
        ),
        disputed=disputed,
        notes=notes,
        source="e-invoice",
    )
