"""Where a party is paid: bank details checked with schwifty, never used until a second operator
confirmed them.

Changing a payee's IBAN is the classic payout fraud (one compromised operator account redirects a
creditor's money), so every version of a party's bank details is kept, and a new one puts that
party's payouts on hold until an operator other than the one who entered it confirms it. The
first bank details of a party are treated the same way: they are a change from "none".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from recouvra_shared.errors import InvalidField, PermissionDenied, StateConflict
from settlement.domain.accounts import PartyKind, account_of_code

MAX_HOLDER = 70  # the SEPA name field's length


class FourEyesRefused(PermissionDenied):
    """The same operator tried to be both pairs of eyes."""


class NothingToConfirm(StateConflict):
    """The party's bank details are confirmed already, or were never entered."""


@dataclass(frozen=True)
class Mandate:
    """A SEPA direct debit mandate the party signed, letting the platform collect what it owes."""

    mandate_id: str
    signed_on: date


@dataclass(frozen=True)
class PayeeAccount:
    """One version of a party's bank details, as entered and (perhaps) confirmed."""

    party_kind: PartyKind
    party_id: str
    version: int
    holder: str
    iban: str
    bic: str | None
    entered_by: str
    entered_at: datetime
    mandate: Mandate | None = None
    confirmed_by: str | None = None
    confirmed_at: datetime | None = None

    @property
    def confirmed(self) -> bool:
        """Whether a second operator vouched for these details."""
        return self.confirmed_by is not None


def checked_operator(operator: str) -> str:
    """The operator a command names (the verified caller's subject), refused when blank."""
    name = operator.strip()
    if not 1 <= len(name) <= 200:
        raise InvalidField("operator", "the operator's name, 1 to 200 characters")
    return name


def checked_party(party_kind: str, party_id: str) -> tuple[PartyKind, str]:
    """The party, refused unless it is a creditor, provider or partner with a valid id."""
    try:
        kind = PartyKind(party_kind)
    except ValueError:
        raise InvalidField("party_kind", "one of creditor, provider, partner") from None
    number = {PartyKind.CREDITOR: "4671", PartyKind.PROVIDER: "4011", PartyKind.PARTNER: "4012"}
    try:
        account_of_code(f"{number[kind]}/{party_id}")
    except InvalidField:
        raise InvalidField("party_id", "letters, digits, . _ -, at most 64") from None
    return kind, party_id


def bank_details(holder: str, iban: str, bic: str | None) -> tuple[str, str, str | None]:
    """Holder, IBAN and BIC as stored, refused unless valid, in the SEPA zone and consistent."""
    name = " ".join(holder.split())
    if not 1 <= len(name) <= MAX_HOLDER:
        raise InvalidField("holder", f"between 1 and {MAX_HOLDER} characters")
    try:
        checked_iban = IBAN(iban)
    except SchwiftyException as refused:
        raise InvalidField("iban", f"not a valid IBAN: {refused}") from None
    if not checked_iban.in_sepa_zone:
        raise InvalidField("iban", "must be an account in the SEPA zone")
    if not bic:
        return name, checked_iban.compact, None
    try:
        checked_bic = BIC(bic)
    except SchwiftyException as refused:
        raise InvalidField("bic", f"not a valid BIC: {refused}") from None
    if checked_bic.country_code != checked_iban.country_code:
        raise InvalidField("bic", "must be of the IBAN's country")
    return name, checked_iban.compact, checked_bic.compact


def checked_mandate(mandate_id: str | None, signed_on: date | None, today: date) -> Mandate | None:
    """A direct debit mandate (SEPA: an id of 1 to 35 characters, signed in the past), or none."""
    if not mandate_id and signed_on is None:
        return None
    if not mandate_id or not 1 <= len(mandate_id) <= 35:
        raise InvalidField("mandate_id", "between 1 and 35 characters when a mandate is given")
    if signed_on is None or signed_on > today:
        raise InvalidField(
            "mandate_signed_on", "the date the mandate was signed, not later than today"
        )
    return Mandate(mandate_id, signed_on)


def confirmation(latest: PayeeAccount | None, operator: str, at: datetime) -> PayeeAccount:
    """The latest version confirmed by `operator`, who must not be the one who entered it."""
    if latest is None or latest.confirmed:
        raise NothingToConfirm("bank details: nothing waits for confirmation for this party")
    if latest.entered_by == operator:
        raise FourEyesRefused(
            f"operator: {operator} entered these bank details; four-eyes rule: a different "
            "operator must confirm them"
        )
    return replace(latest, confirmed_by=operator, confirmed_at=at)


def payable_account(versions: list[PayeeAccount]) -> PayeeAccount | None:
    """The details to pay to: the latest version if confirmed; None (on hold) when the latest
    is unconfirmed or there is none, even if an older version was confirmed."""
    if not versions:
        return None
    latest = max(versions, key=lambda v: v.version)
    return latest if latest.confirmed else None
