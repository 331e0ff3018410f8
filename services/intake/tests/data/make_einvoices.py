"""Regenerate the e-invoice samples of intake's tests with the `factur-x` library.

    .venv/bin/python services/intake/tests/data/make_einvoices.py

Writes, next to this script:
- invoice-cii.xml: an EN 16931 CII invoice (factur-x's generate_cii_xml, XSD-checked);
- invoice-ubl.xml: the same invoice in OASIS UBL 2.1 (generate_ubl_xml, XSD-checked);
- invoice-facturx.pdf: a Factur-X PDF: a one-page PDF made with pypdf, with the CII XML
  embedded by factur-x's generate_from_binary (XMP metadata, attachment, level EN 16931).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import facturx  # type: ignore[import-untyped]
from pypdf import PdfWriter

HERE = Path(__file__).parent

# Seller: the creditor; buyer: the debtor (Danone's public SIREN 552032534, a real checksum).
INVOICE = {
    "BT-1": "FA-2026-0042",
    "BT-2": date(2026, 4, 15),
    "BT-3": "380",
    "BT-5": "EUR",
    "BT-9": date(2026, 5, 15),
    "BT-72": date(2026, 4, 10),
    "BG-4": {
        "name": "Plomberie Lefèvre SARL",
        "legal_identifier": "552100554",
        "legal_identifier_schemeid": "0002",
        "vat_identifier": "FR96552100554",
        "country_code": "FR",
        "city": "Lille",
        "postcode": "59000",
        "addr_l1": "3 rue Nationale",
    },
    "BG-7": {
        "name": "Danone Services SAS",
        "legal_identifier": "552032534",
        "legal_identifier_schemeid": "0002",
        "vat_identifier": "FR27552032534",
        "country_code": "FR",
        "city": "Paris",
        "postcode": "75009",
        "addr_l1": "17 boulevard Haussmann",
        "contacts": [{"email": "compta@danone-services.example", "phone": "+33144352020"}],
    },
    "BT-106": "1000.00",
    "BT-109": "1000.00",
    "BT-110": "200.00",
    "BT-112": "1200.00",
    "BT-113": "200.00",
    "BT-115": "1000.00",
    "BG-23": [{"BT-116": "1000.00", "BT-117": "200.00", "BT-118": "S", "BT-119": "20.00"}],
    "BG-25": [
        {
            "BT-126": "1",
            "BT-129": "1",
            "BT-130": "C62",
            "BT-131": "1000.00",
            "BT-146": "1000.00",
            "BT-151": "S",
            "BT-152": "20.00",
            "BT-153": "Remplacement chaudière, atelier de Lille",
        }
    ],
}


def blank_pdf() -> bytes:
    """A one-page A4 PDF, the visual part of the Factur-X file."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def main() -> None:
    """Write the three samples."""
    cii = facturx.generate_cii_xml(INVOICE, level="en16931")
    ubl = facturx.generate_ubl_xml(INVOICE, level="en16931")
    pdf = facturx.generate_from_binary(blank_pdf(), cii, flavor="factur-x", level="en16931")
    (HERE / "invoice-cii.xml").write_bytes(cii)
    (HERE / "invoice-ubl.xml").write_bytes(ubl)
    (HERE / "invoice-facturx.pdf").write_bytes(pdf)


if __name__ == "__main__":
    main()
