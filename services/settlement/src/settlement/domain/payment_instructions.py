"""Where and how a debtor pays: the client-money account, the case's RF reference, the EPC QR.

The RF creditor reference (ISO 11649) is what a debtor quotes on the transfer, so that each euro
received can be told to its case; its two check digits (ISO 7064 mod 97-10) catch a mistyped
reference before it reaches the wrong case. The account is the platform's client-money account,
kept apart from its own money (Code des procédures civiles d'exécution R124-2).
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import segno
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from segno import helpers as segno_helpers
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from recouvra_shared.errors import InvalidField, NotFound, PermissionDenied

REFERENCE_PREFIX = "RCV"
_BODY_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_BODY = re.compile(r"^[0-9A-Z]{1,21}$")
EPC_MIN_CENTS, EPC_MAX_CENTS = 1, 99_999_999_999


@dataclass(frozen=True)
class ClientMoneyAccount:
    """The bank account debtors pay into, as validated at start-up."""

    beneficiary: str
    iban: str
    bic: str

    @property
    def iban_formatted(self) -> str:
        """The IBAN in groups of four."""
        return IBAN(self.iban).formatted


def client_money_account(beneficiary: str, iban: str, bic: str) -> ClientMoneyAccount:
    """The account, refused unless its IBAN and BIC are valid, SEPA and of the same country."""
    name = beneficiary.strip()
    if not 1 <= len(name) <= 70:
        raise InvalidField("client_money_beneficiary", "between 1 and 70 characters (EPC)")
    try:
        checked_iban = IBAN(iban)
    except SchwiftyException as refused:
        raise InvalidField("client_money_iban", f"not a valid IBAN: {refused}") from None
    if not checked_iban.in_sepa_zone:
        raise InvalidField("client_money_iban", "must be an account in the SEPA zone")
    try:
        checked_bic = BIC(bic)
    except SchwiftyException as refused:
        raise InvalidField("client_money_bic", f"not a valid BIC: {refused}") from None
    if checked_bic.country_code != checked_iban.country_code:
        raise InvalidField("client_money_bic", "must be of the IBAN's country")
    return ClientMoneyAccount(name, checked_iban.compact, checked_bic.compact)


def rf_reference(body: str) -> str:
    """The RF creditor reference of a body of 1 to 21 digits or capital letters."""
    if not _BODY.match(body):
        raise InvalidField("reference", "a body of 1 to 21 digits or capital letters")
    reference = f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    return str(iso11649.validate(reference))


def new_reference_body(random_bits: Callable[[int], int]) -> str:
    """`RCV` and 12 random base-36 characters (about 62 bits): a reference nobody can guess
    from another case's."""
    value = random_bits(62)
    chars = []
    for _ in range(12):
        value, digit = divmod(value, 36)
        chars.append(_BODY_ALPHABET[digit])
    return REFERENCE_PREFIX + "".join(chars)


def checked_case_id(case_id: str) -> str:
    """A case id in its canonical UUID form."""
    try:
        return str(uuid.UUID(case_id))
    except ValueError:
        raise InvalidField("case_id", "must be a UUID") from None


# The services that may ask for any case's instructions, by the name their signed token carries:
# messaging puts them in the letters and e-mails it sends. Any other service is refused.
SERVICES_SEEING_EVERY_CASE = frozenset({"messaging"})


def check_may_see(
    caller_kind: str,
    caller_subject: str,
    case_id: str,
    caller_tenant: str | None = None,
    creditor_of_case: str | None = None,
) -> None:
    """Messaging sees every case's instructions, the debtor (through the portal) its own case's
    only, a creditor the cases it submitted (`creditor_of_case`: as intake told settlement);
    everyone else is refused, and another's case answers as a missing one."""
    if caller_kind == "creditor":
        if not caller_tenant or caller_tenant != creditor_of_case:
            raise NotFound(f"no case {case_id}")
        return
    if caller_kind == "service":
        if caller_subject in SERVICES_SEEING_EVERY_CASE:
            return
        raise PermissionDenied(f"service {caller_subject} is not given payment instructions")
    if caller_kind == "debtor":
        if caller_subject != case_id:
            raise NotFound(f"no case {case_id}")
        return
    raise PermissionDenied(
        "payment instructions are given to messaging, the case's debtor and its creditor"
    )


def checked_amount_due(cents: int | None, currency: str) -> int | None:
    """The amount to ask for, within the EPC QR's limits, in EUR; None when not given."""
    if cents is None:
        return None
    if currency != "EUR":
        raise InvalidField("amount_due.currency", "must be EUR")
    if not EPC_MIN_CENTS <= cents <= EPC_MAX_CENTS:
        raise InvalidField("amount_due.minor_units", "between 1 and 99999999999 cents")
    return cents


@dataclass(frozen=True)
class PaymentInstructions:
    """What a debtor needs to pay a case, and the same as an EPC QR code when the amount is
    known."""

    case_id: str
    account: ClientMoneyAccount
    reference: str
    amount_due: int | None

    @property
    def reference_formatted(self) -> str:
        """The reference in groups of four."""
        return str(iso11649.format(self.reference))

    def _epc(self) -> dict[str, Any]:
        assert self.amount_due is not None
        return {
            "name": self.account.beneficiary,
            "iban": self.account.iban,
            "bic": self.account.bic,
            "amount": Decimal(self.amount_due) / 100,
            "reference": self.reference,
            "encoding": "utf-8",
        }

    @property
    def epc_qr_payload(self) -> str:
        """The EPC069-12 text a banking app reads (segno builds it: the QR carries exactly it);
        empty without an amount."""
        if self.amount_due is None:
            return ""
        # segno's public helper returns only the QR; the payload comes from the builder that helper
        # encodes, so text and QR never differ (segno is pinned to 1.6.x for this).
        data: bytes = segno_helpers._make_epc_qr_data(**self._epc())  # type: ignore[attr-defined]
        return data.decode("utf-8")

    @property
    def epc_qr_svg(self) -> str:
        """The EPC QR code as SVG; empty without an amount."""
        if self.amount_due is None:
            return ""
        buffer = io.BytesIO()
        qr: segno.QRCode = segno_helpers.make_epc_qr(**self._epc())
        qr.save(buffer, kind="svg", scale=4)
        return buffer.getvalue().decode("utf-8")
