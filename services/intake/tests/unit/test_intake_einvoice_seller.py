"""The seller of an imported e-invoice must be the importing creditor: the samples of
tests/data (seller Plomberie Lefèvre, SIREN 552100554, VAT FR96552100554) and UBL variants."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from intake.adapters.einvoice import read_einvoice
from intake.domain.errors import InvalidField, InvalidRequest
from intake.domain.seller import Seller, check_seller, creditor_siren

DATA = Path(__file__).parents[1] / "data"
SAMPLES = ["invoice-facturx.pdf", "invoice-cii.xml", "invoice-ubl.xml"]
SELLER_SIREN = "552100554"
OTHER_SIREN = "732829320"
OTHER_VAT = "FR44732829320"
UBL = (DATA / "invoice-ubl.xml").read_bytes()
SELLER_LEGAL_ID = b'<cbc:CompanyID schemeID="0002">552100554</cbc:CompanyID>'
# The seller's VAT registration: the first PartyTaxScheme, inside AccountingSupplierParty.
SELLER_TAX_SCHEME = re.compile(
    rb"(<cac:AccountingSupplierParty>.*?)<cac:PartyTaxScheme>.*?</cac:PartyTaxScheme>", re.S
)


def seller_of(content: bytes) -> Seller:
    return read_einvoice(content, "creditor-a", disputed=False, notes="", amount_due="").seller


def ubl(legal_id: bytes = SELLER_LEGAL_ID, vat_number: str | None = "FR96552100554") -> bytes:
    """The UBL sample with the seller's legal registration and VAT number replaced."""
    content = UBL.replace(SELLER_LEGAL_ID, legal_id, 1)
    if vat_number is None:
        return SELLER_TAX_SCHEME.sub(rb"\1", content, count=1)
    return content.replace(b"FR96552100554", vat_number.encode(), 1)


def refusals(seller: Seller, creditor: str) -> dict[str, str]:
    with pytest.raises(InvalidRequest) as refused:
        check_seller(seller, creditor)
    return {v.field: v.rule for v in refused.value.violations}


@pytest.mark.parametrize("sample", SAMPLES)
def test_the_sellers_own_invoice_passes_in_every_format(sample: str) -> None:
    assert check_seller(seller_of((DATA / sample).read_bytes()), SELLER_SIREN) == ""


@pytest.mark.parametrize("sample", SAMPLES)
def test_another_creditor_is_refused_naming_each_seller_identifier(sample: str) -> None:
    seller = seller_of((DATA / sample).read_bytes())
    assert refusals(seller, OTHER_SIREN) == {
        "seller.siren": "552100554 does not match the importing creditor (SIREN 732829320)",
        "seller.vat_number": "FR96552100554 does not match the importing creditor "
        "(SIREN 732829320)",
    }


def test_an_invoice_of_another_seller_belongs_to_that_seller_only() -> None:
    other = seller_of(ubl(b'<cbc:CompanyID schemeID="0002">732 829 320</cbc:CompanyID>', OTHER_VAT))
    assert check_seller(other, OTHER_SIREN) == ""
    assert refusals(other, SELLER_SIREN) == {
        "seller.siren": "732829320 does not match the importing creditor (SIREN 552100554)",
        "seller.vat_number": "FR44732829320 does not match the importing creditor "
        "(SIREN 552100554)",
    }


def test_a_siret_names_its_company_by_its_first_nine_digits() -> None:
    seller = seller_of(ubl(b'<cbc:CompanyID schemeID="0009">55210055400013</cbc:CompanyID>'))
    assert check_seller(seller, SELLER_SIREN) == ""
    assert refusals(seller, OTHER_SIREN)["seller.siret"] == (
        "55210055400013 does not match the importing creditor (SIREN 732829320)"
    )


def test_a_siren_without_its_scheme_still_names_a_french_seller() -> None:
    seller = seller_of(ubl(b"<cbc:CompanyID>732829320</cbc:CompanyID>", vat_number=None))
    assert check_seller(seller, OTHER_SIREN) == ""
    assert set(refusals(seller, SELLER_SIREN)) == {"seller.siren"}


def test_a_french_vat_number_alone_is_enough_to_refuse() -> None:
    seller = seller_of(ubl(b"", OTHER_VAT))
    assert refusals(seller, SELLER_SIREN) == {
        "seller.vat_number": "FR44732829320 does not match the importing creditor (SIREN 552100554)"
    }


def test_one_identifier_of_another_company_is_enough_to_refuse() -> None:
    seller = seller_of(ubl(vat_number=OTHER_VAT))
    assert set(refusals(seller, SELLER_SIREN)) == {"seller.vat_number"}


def test_an_invoice_naming_no_french_seller_identifier_is_accepted_unchecked() -> None:
    anonymous = seller_of(ubl(b"", vat_number=None))
    assert "names no French legal identifier" in check_seller(anonymous, OTHER_SIREN)
    german = Seller(legal_identifier="732829320", country_code="DE", vat_number="DE136695976")
    assert "names no French legal identifier" in check_seller(german, OTHER_SIREN)


def test_without_the_creditors_siren_nothing_is_checked() -> None:
    seller = seller_of(UBL)
    assert check_seller(seller, "") == "the importing creditor's SIREN is unknown"


def test_the_creditors_siren_must_be_a_siren() -> None:
    assert creditor_siren(" 732 829 320 ") == OTHER_SIREN
    assert creditor_siren("") == ""
    with pytest.raises(InvalidField) as refused:
        creditor_siren("732829321")
    assert refused.value.field == "creditor_siren"
    assert "valid SIREN" in refused.value.rule
