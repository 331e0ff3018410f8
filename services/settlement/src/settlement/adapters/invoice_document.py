"""An invoice as a Factur-X PDF: the page rendered by WeasyPrint from a Jinja2 template, the
EN 16931 (CII) XML built here and embedded by the factur-x library, which checks it against the
profile's XSD before writing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import facturx  # type: ignore[import-untyped]
from jinja2 import Environment, FileSystemLoader, select_autoescape
from lxml import etree  # type: ignore[import-untyped]
from weasyprint import HTML

from settlement.domain.invoices import FRANCHISE_MENTION, Invoice, InvoiceParty, money_text

LEVEL = "en16931"
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "udt": "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100",
    "qdt": "urn:un:unece:uncefact:data:standard:QualifiedDataType:100",
}


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    prefix, name = tag.split(":")
    node = etree.SubElement(parent, f"{{{_NS[prefix]}}}{name}", attrs)
    if text is not None:
        node.text = text
    return node


def _amount(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _percent(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}"


def _date(parent: etree._Element, tag: str, on: str) -> None:
    _el(_el(parent, tag), "udt:DateTimeString", on, format="102")


def _party(parent: etree._Element, tag: str, party: InvoiceParty) -> None:
    node = _el(parent, tag)
    _el(node, "ram:Name", party.name)
    _el(_el(node, "ram:SpecifiedLegalOrganization"), "ram:ID", party.siren, schemeID="0002")
    address = _el(node, "ram:PostalTradeAddress")
    _el(address, "ram:PostcodeCode", party.postcode)
    _el(address, "ram:LineOne", party.address)
    _el(address, "ram:CityName", party.city)
    _el(address, "ram:CountryID", party.country)
    if party.vat_number:
        _el(_el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", party.vat_number, schemeID="VA")


def _tax(parent: etree._Element, invoice: Invoice, *, header: bool) -> None:
    to_issue = invoice.to_issue
    tax = _el(parent, "ram:ApplicableTradeTax")
    if header:
        _el(tax, "ram:CalculatedAmount", _amount(to_issue.vat_amount))
    _el(tax, "ram:TypeCode", "VAT")
    if header and invoice.vat_exempt:
        _el(tax, "ram:ExemptionReason", FRANCHISE_MENTION)
    if header:
        _el(tax, "ram:BasisAmount", _amount(to_issue.amount_excl_vat))
    _el(tax, "ram:CategoryCode", "E" if invoice.vat_exempt else "S")
    if header and invoice.vat_exempt:
        _el(tax, "ram:ExemptionReasonCode", "VATEX-FR-FRANCHISE")
    _el(tax, "ram:RateApplicablePercent", _percent(to_issue.vat_rate_bp))


def cii_xml(invoice: Invoice) -> bytes:
    """The invoice as Factur-X EN 16931 XML (UN/CEFACT Cross Industry Invoice)."""
    to_issue = invoice.to_issue
    root = etree.Element(f"{{{_NS['rsm']}}}CrossIndustryInvoice", nsmap=_NS)
    context = _el(root, "rsm:ExchangedDocumentContext")
    _el(_el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID",
        "urn:cen.eu:en16931:2017")  # fmt: skip
    document = _el(root, "rsm:ExchangedDocument")
    _el(document, "ram:ID", invoice.number)
    _el(document, "ram:TypeCode", "380")
    _date(document, "ram:IssueDateTime", f"{to_issue.issued_on:%Y%m%d}")
    notes = [(invoice.penalty_mention, "PMD")]
    if invoice.mandate_mention:
        notes.insert(0, (invoice.mandate_mention, "REG"))
    for content, subject in notes:
        note = _el(document, "ram:IncludedNote")
        _el(note, "ram:Content", content)
        _el(note, "ram:SubjectCode", subject)
    transaction = _el(root, "rsm:SupplyChainTradeTransaction")
    line = _el(transaction, "ram:IncludedSupplyChainTradeLineItem")
    _el(_el(line, "ram:AssociatedDocumentLineDocument"), "ram:LineID", "1")
    _el(_el(line, "ram:SpecifiedTradeProduct"), "ram:Name", to_issue.description)
    price = _el(_el(line, "ram:SpecifiedLineTradeAgreement"), "ram:NetPriceProductTradePrice")
    _el(price, "ram:ChargeAmount", _amount(to_issue.amount_excl_vat))
    _el(_el(line, "ram:SpecifiedLineTradeDelivery"), "ram:BilledQuantity", "1", unitCode="C62")
    line_settlement = _el(line, "ram:SpecifiedLineTradeSettlement")
    _tax(line_settlement, invoice, header=False)
    _el(_el(line_settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation"),
        "ram:LineTotalAmount", _amount(to_issue.amount_excl_vat))  # fmt: skip
    agreement = _el(transaction, "ram:ApplicableHeaderTradeAgreement")
    _el(agreement, "ram:BuyerReference", to_issue.case_id)
    _party(agreement, "ram:SellerTradeParty", to_issue.seller)
    _party(agreement, "ram:BuyerTradeParty", to_issue.buyer)
    delivery = _el(transaction, "ram:ApplicableHeaderTradeDelivery")
    _date(_el(delivery, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime",
          f"{to_issue.service_date:%Y%m%d}")  # fmt: skip
    settlement = _el(transaction, "ram:ApplicableHeaderTradeSettlement")
    _el(settlement, "ram:InvoiceCurrencyCode", "EUR")
    _tax(settlement, invoice, header=True)
    terms = _el(settlement, "ram:SpecifiedTradePaymentTerms")
    _el(terms, "ram:Description", f"Paiement à {to_issue.payment_days} jours")
    _date(terms, "ram:DueDateDateTime", f"{invoice.due_on:%Y%m%d}")
    sums = _el(settlement, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
    _el(sums, "ram:LineTotalAmount", _amount(to_issue.amount_excl_vat))
    _el(sums, "ram:TaxBasisTotalAmount", _amount(to_issue.amount_excl_vat))
    _el(sums, "ram:TaxTotalAmount", _amount(to_issue.vat_amount), currencyID="EUR")
    _el(sums, "ram:GrandTotalAmount", _amount(invoice.total))
    _el(sums, "ram:DuePayableAmount", _amount(invoice.total))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def invoice_html(invoice: Invoice) -> str:
    """The invoice's page, with every mention a French B2B invoice carries."""
    to_issue = invoice.to_issue
    return _TEMPLATES.get_template("invoice.html").render(
        invoice=invoice,
        to_issue=to_issue,
        seller=to_issue.seller,
        buyer=to_issue.buyer,
        issued=f"{to_issue.issued_on:%d/%m/%Y}",
        served=f"{to_issue.service_date:%d/%m/%Y}",
        due=f"{invoice.due_on:%d/%m/%Y}",
        amount=money_text(to_issue.amount_excl_vat),
        vat=money_text(to_issue.vat_amount),
        total=money_text(invoice.total),
        rate=f"{_percent(to_issue.vat_rate_bp).replace('.', ',')} %",
        franchise=FRANCHISE_MENTION,
    )


def facturx_pdf(invoice: Invoice) -> bytes:
    """The Factur-X PDF/A-3 of the invoice (its XML checked against the XSD first)."""
    page = HTML(string=invoice_html(invoice)).write_pdf(pdf_variant="pdf/a-3b")
    assert page is not None
    return bytes(
        facturx.generate_from_binary(
            page, cii_xml(invoice), flavor="factur-x", level=LEVEL, check_xsd=True, lang="fr-FR"
        )
    )


class FacturxRenderer:
    """Renders invoices off the event loop (WeasyPrint is CPU-bound)."""

    async def render(self, invoice: Invoice) -> bytes:
        """The invoice's Factur-X PDF."""
        return await asyncio.to_thread(facturx_pdf, invoice)
