"""Fee invoices: numbered without gaps per issuer, issued once per fee, refused with the rule
they break, read only by their parties; the real document is Factur-X EN 16931 that factur-x's
own XSD check accepts, with every mention a French invoice must carry."""

from __future__ import annotations

import io
from dataclasses import replace

import facturx  # type: ignore[import-untyped]
import pytest
from lxml import etree  # type: ignore[import-untyped]
from pypdf import PdfReader

from recouvra_shared.errors import InvalidRequest, PermissionDenied, Unavailable
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from services.settlement.tests.unit.invoice_builders import (
    CREDITOR,
    PROVIDER,
    PlainRenderer,
    platform_commission,
    provider_fee,
)
from settlement.adapters.invoice_document import FacturxRenderer
from settlement.domain.documents import InvoiceNotFound, Reader, reader_of
from settlement.domain.invoices import FRANCHISE_MENTION, PartyRole
from settlement.service_layer.invoices import (
    InvoiceAlreadyIssued,
    invoice_document,
    invoices_for,
    issue_invoice,
)

RAM = "{urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100}"


def pdf_text(pdf: bytes) -> str:
    return " ".join((page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_a_provider_fee_invoice_is_factur_x_en16931_with_every_mention() -> None:
    tables = Tables()
    issued = await issue_invoice(
        provider_fee(), FakeSettlementUnitOfWork(tables), FacturxRenderer()
    )
    assert issued.invoice.number == "HON-prov-1-000001"
    _, pdf = tables.invoices[issued.invoice.invoice_id]
    name, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert name == "factur-x.xml"
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    assert tree.findtext(f".//{RAM}GuidelineSpecifiedDocumentContextParameter/{RAM}ID") == (
        "urn:cen.eu:en16931:2017"
    )
    assert tree.findtext(f".//{RAM}GrandTotalAmount") == "216.00"
    assert tree.findtext(f".//{RAM}TaxTotalAmount") == "36.00"
    assert tree.findtext(f".//{RAM}SellerTradeParty/{RAM}SpecifiedLegalOrganization/{RAM}ID") == (
        "732829320"
    )
    text = " ".join(pdf_text(pdf).split())
    for mention in (
        "Facture n° HON-prov-1-000001",
        "Date d'émission : 02/12/2026",
        "au nom et pour le compte de Cabinet Dupont Recouvrement",
        "Cabinet Dupont Recouvrement",
        "1 rue de la Paix",
        "Boulangerie Martin",
        "3 place du Marché",
        "SIREN : 732829320",
        "SIREN : 542107651",
        "FR44732829320",
        "FR13542107651",
        "Honoraires de résultat",
        "180,00 €",
        "20,00 %",
        "36,00 €",
        "216,00 €",
        "à régler au plus tard le 01/01/2027",
        "pénalités au taux annuel de 12,15 %",
        "indemnité forfaitaire pour frais de recouvrement de 40 euros",
    ):
        assert mention in text, mention


async def test_a_seller_under_the_franchise_charges_no_vat_and_says_why() -> None:
    tables = Tables()
    exempt = replace(PROVIDER, vat_number=None)
    to_issue = provider_fee(seller=exempt, vat_rate_bp=0, vat_amount=0)
    issued = await issue_invoice(to_issue, FakeSettlementUnitOfWork(tables), FacturxRenderer())
    _, pdf = tables.invoices[issued.invoice.invoice_id]
    _, xml = facturx.get_xml_from_pdf(pdf, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="en16931")
    tree = etree.fromstring(xml)
    assert tree.findtext(f".//{RAM}ApplicableHeaderTradeSettlement//{RAM}CategoryCode") == "E"
    assert FRANCHISE_MENTION in " ".join(pdf_text(pdf).split())


async def test_numbers_run_unbroken_and_a_failed_render_keeps_its_number_for_the_retry() -> None:
    tables, renderer = Tables(), PlainRenderer()
    first = await issue_invoice(provider_fee("event:a"), FakeSettlementUnitOfWork(tables), renderer)
    renderer.fail = True
    with pytest.raises(RuntimeError):
        await issue_invoice(provider_fee("event:b"), FakeSettlementUnitOfWork(tables), renderer)
    # Numbered and kept before the PDF is rendered (the series is not held while it renders);
    # its PDF is missing until the retry, and nobody is served half an invoice meanwhile.
    (waiting,) = [i for i, pdf in tables.invoices.values() if pdf is None]
    with pytest.raises(Unavailable):
        await invoice_document(
            FakeSettlementUnitOfWork(tables), reader_of("creditor", "cred-1"), waiting.invoice_id
        )
    renderer.fail = False
    second = await issue_invoice(
        provider_fee("event:b"), FakeSettlementUnitOfWork(tables), renderer
    )
    assert (second.created, second.invoice) == (False, waiting)
    assert tables.invoices[waiting.invoice_id][1] == b"%PDF HON-prov-1-000002"
    other = replace(PROVIDER, party_id="prov-2")
    theirs = await issue_invoice(
        provider_fee("event:c", seller=other), FakeSettlementUnitOfWork(tables), renderer
    )
    commission = await issue_invoice(
        platform_commission("event:a"), FakeSettlementUnitOfWork(tables), renderer
    )
    assert [first.invoice.number, second.invoice.number] == [
        "HON-prov-1-000001",
        "HON-prov-1-000002",
    ]
    assert theirs.invoice.number == "HON-prov-2-000001"
    assert commission.invoice.number == "COM-000001"


async def test_a_fee_is_invoiced_once_and_a_replay_with_other_amounts_is_refused() -> None:
    tables, renderer = Tables(), PlainRenderer()
    first = await issue_invoice(provider_fee(), FakeSettlementUnitOfWork(tables), renderer)
    again = await issue_invoice(provider_fee(), FakeSettlementUnitOfWork(tables), renderer)
    assert (again.created, again.invoice) == (False, first.invoice)
    with pytest.raises(InvoiceAlreadyIssued):
        await issue_invoice(
            provider_fee(amount_excl_vat=20_000, vat_amount=4_000),
            FakeSettlementUnitOfWork(tables),
            renderer,
        )
    assert len(tables.invoices) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"vat_amount": 3_601}, "vat_amount"),
        ({"seller": replace(PROVIDER, vat_number=None)}, "vat_rate_bp"),
        ({"buyer": replace(CREDITOR, siren="542107652")}, "buyer.siren"),
        ({"buyer": replace(CREDITOR, vat_number="FR00542107651")}, "buyer.vat_number"),
        ({"buyer": replace(CREDITOR, address=" ")}, "buyer.address"),
        ({"seller": CREDITOR, "buyer": CREDITOR}, "seller.role"),
        ({"payment_days": 90}, "payment_days"),
        ({"amount_excl_vat": 0}, "amount_excl_vat"),
    ],
)
async def test_an_invoice_missing_a_mandatory_element_is_refused_by_name(
    changes: dict[str, object], field: str
) -> None:
    tables = Tables()
    with pytest.raises(InvalidRequest) as refused:
        await issue_invoice(
            provider_fee(**changes), FakeSettlementUnitOfWork(tables), PlainRenderer()
        )
    assert field in [v.field for v in refused.value.violations]
    assert tables.invoices == {}
    assert tables.counters == {}


async def test_each_party_reads_only_its_own_invoices() -> None:
    tables, renderer = Tables(), PlainRenderer()
    fee = await issue_invoice(provider_fee(), FakeSettlementUnitOfWork(tables), renderer)
    commission = await issue_invoice(
        platform_commission(), FakeSettlementUnitOfWork(tables), renderer
    )
    stranger = replace(CREDITOR, party_id="cred-2")
    foreign = await issue_invoice(
        provider_fee("event:fee-2", buyer=stranger), FakeSettlementUnitOfWork(tables), renderer
    )

    async def numbers(reader: Reader) -> set[str]:
        return {i.number for i in await invoices_for(FakeSettlementUnitOfWork(tables), reader)}

    creditor = reader_of("creditor", "cred-1")
    assert await numbers(creditor) == {fee.invoice.number}
    provider = reader_of("provider", "prov-1")
    assert await numbers(provider) == {
        fee.invoice.number,
        commission.invoice.number,
        foreign.invoice.number,
    }
    assert len(await numbers(reader_of("operator", None))) == 3
    invoice, pdf = await invoice_document(
        FakeSettlementUnitOfWork(tables), creditor, fee.invoice.invoice_id
    )
    assert (invoice.number, pdf) == (fee.invoice.number, b"%PDF HON-prov-1-000001")
    with pytest.raises(InvoiceNotFound):
        await invoice_document(
            FakeSettlementUnitOfWork(tables), creditor, foreign.invoice.invoice_id
        )
    with pytest.raises(InvoiceNotFound):
        await invoice_document(
            FakeSettlementUnitOfWork(tables), creditor, commission.invoice.invoice_id
        )
    # A provider id that happens to equal a creditor id reads nothing of that creditor's.
    assert await numbers(Reader(PartyRole.PROVIDER, "cred-1")) == set()
    with pytest.raises(PermissionDenied):
        reader_of("debtor", "case-1")
    with pytest.raises(PermissionDenied):
        reader_of("creditor", None)
