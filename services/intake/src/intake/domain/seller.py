"""Whether the seller an e-invoice names is the creditor importing it: a creditor must not have a
debtor chased for a claim that belongs to another company."""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.eu import vat
from stdnum.fr import siren, siret, tva

from intake.domain.commands import SubmitCase
from intake.domain.errors import InvalidField, InvalidRequest, Violation

# ISO 6523 schemes of the seller's legal registration (BT-30): 0002 = SIREN, 0009 = SIRET.
SIREN_SCHEME = "0002"
SIRET_SCHEME = "0009"
FRANCE = "FR"


@dataclass(frozen=True)
class SellerIdentifier:
    """A French identifier of the seller, the field it is reported under and the SIREN it names."""

    field: str
    value: str
    siren: str


@dataclass(frozen=True)
class Seller:
    """The seller (BG-4) as an e-invoice identifies it."""

    name: str = ""
    legal_identifier: str = ""
    legal_scheme: str = ""
    country_code: str = ""
    vat_number: str = ""

    def french_identifiers(self) -> tuple[SellerIdentifier, ...]:
        """The identifiers that name a French company; other ones cannot be compared."""
        found: list[SellerIdentifier] = []
        legal = siren.compact(self.legal_identifier)
        scheme = self.legal_scheme.strip()
        french_seller = self.country_code.strip().upper() in ("", FRANCE)
        if legal and scheme == SIREN_SCHEME:
            found.append(SellerIdentifier("seller.siren", legal, legal))
        elif legal and scheme == SIRET_SCHEME:
            found.append(SellerIdentifier("seller.siret", legal, legal[:9]))
        # Many French invoices give the SIREN or SIRET without its scheme: a checksum-valid
        # number of a French seller is read as what it looks like.
        elif legal and not scheme and french_seller and siren.is_valid(legal):
            found.append(SellerIdentifier("seller.siren", legal, legal))
        elif legal and not scheme and french_seller and siret.is_valid(legal):
            found.append(SellerIdentifier("seller.siret", legal, legal[:9]))
        vat_number = vat.compact(self.vat_number) if self.vat_number.strip() else ""
        if vat_number.startswith(FRANCE) and tva.is_valid(vat_number):
            found.append(
                SellerIdentifier("seller.vat_number", vat_number, tva.to_siren(vat_number))
            )
        return tuple(found)


@dataclass(frozen=True)
class ReadInvoice:
    """What an e-invoice says: its format, the case it asks for, and who sold the invoice."""

    format: str
    command: SubmitCase
    seller: Seller


def creditor_siren(value: str) -> str:
    """The importing creditor's SIREN as the gateway sends it, compacted; '' when unknown."""
    if not value.strip():
        return ""
    if not siren.is_valid(value):
        raise InvalidField(
            "creditor_siren", "must be a valid SIREN (9 digits with a correct checksum)"
        )
    return str(siren.compact(value))


def check_seller(seller: Seller, creditor: str) -> str:
    """Why the seller could not be checked against the creditor's SIREN, '' when it was and
    matches; InvalidRequest naming every seller identifier of another company."""
    if not creditor:
        return "the importing creditor's SIREN is unknown"
    identifiers = seller.french_identifiers()
    if not identifiers:
        return "the invoice names no French legal identifier (SIREN, SIRET, FR VAT) of its seller"
    mismatches = [
        Violation(i.field, f"{i.value} does not match the importing creditor (SIREN {creditor})")
        for i in identifiers
        if i.siren != creditor
    ]
    if mismatches:
        raise InvalidRequest(mismatches)
    return ""
