"""Who owes: the debtor as typed and as validated (SIREN/SIRET, EU VAT, address, e-mail, phone,
bank account), and who the same debtor is when it comes back under another spelling."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
import pycountry
from email_validator import EmailNotValidError, validate_email
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret

from intake.domain.checks import Checks

COMPANY = "company"
CONSUMER = "consumer"
MAX_NAME = 200
MAX_ADDRESS_LINE = 100
MAX_ADDRESS_LINES = 3
MAX_EMAIL = 254


@dataclass(frozen=True)
class DebtorInput:
    """The debtor as the creditor typed it (strings, unchecked)."""

    kind: str
    name: str
    siren_or_siret: str = ""
    vat_number: str = ""
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country_code: str = ""
    email: str = ""
    phone: str = ""
    iban: str = ""
    bic: str = ""


@dataclass(frozen=True)
class Debtor:
    """A validated debtor; identifiers in their compact form."""

    kind: str
    name: str
    siren: str = ""
    siret: str = ""
    vat_number: str = ""
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country_code: str = ""
    email: str = ""
    phone: str = ""
    iban: str = ""
    bic: str = ""

    @property
    def is_company(self) -> bool:
        """Whether B2B rules apply."""
        return self.kind == COMPANY

    @property
    def key(self) -> str:
        """Who this debtor is for duplicate detection: its SIREN, else its normalised name."""
        if self.siren:
            return f"siren:{self.siren}"
        return "name:" + " ".join(self.name.casefold().split())


@lru_cache(maxsize=4096)
def pseudonymous_key(secret: bytes, identity: str) -> str:
    """The debtor's key on the bus: HMAC-SHA256 of its identity (`Debtor.key`) under intake's
    secret, so one debtor's cases share it and nobody without the secret can test a guess
    (docs/personal-data.md). Cached: an import's rows repeat their debtors."""
    return hmac.new(secret, identity.encode(), hashlib.sha256).hexdigest()


def debtor_kind(is_company: bool) -> str:
    """The debtor kind of the older boolean field."""
    return COMPANY if is_company else CONSUMER


def _stdnum_rule(exc: StdnumError, name: str) -> str:
    if isinstance(exc, InvalidChecksum):
        return f"is not a valid {name}: the check digit is wrong"
    if isinstance(exc, InvalidLength):
        return f"is not a valid {name}: wrong length"
    if isinstance(exc, InvalidFormat | InvalidComponent):
        return f"is not a valid {name}: wrong format"
    return f"is not a valid {name}"


def _company_ids(checks: Checks, path: str, raw: DebtorInput) -> tuple[str, str, str]:
    siren_number, siret_number, vat_number, broken = _checked_company_ids(
        raw.siren_or_siret, raw.vat_number
    )
    for field, rule in broken:
        checks.fail(f"{path}.{field}", rule)
    return siren_number, siret_number, vat_number


@lru_cache(maxsize=4096)
def _checked_company_ids(
    siren_or_siret: str, vat_raw: str
) -> tuple[str, str, str, tuple[tuple[str, str], ...]]:
    """(SIREN, SIRET, VAT number, the rules broken by field); cached: imports repeat debtors,
    and each check digit costs more than the rest of a row's debtor."""
    siren_number = siret_number = vat_number = ""
    broken: list[tuple[str, str]] = []
    identifier = "".join(siren_or_siret.split())
    if identifier:
        if len(identifier) == 14:
            try:
                siret_number = siret.validate(identifier)
                siren_number = siret_number[:9]
            except StdnumError as exc:
                broken.append(("siren_or_siret", _stdnum_rule(exc, "SIRET")))
        elif len(identifier) == 9:
            try:
                siren_number = siren.validate(identifier)
            except StdnumError as exc:
                broken.append(("siren_or_siret", _stdnum_rule(exc, "SIREN")))
        else:
            broken.append(("siren_or_siret", "must be a SIREN (9 digits) or a SIRET (14 digits)"))
    if vat_raw.strip():
        try:
            vat_number = vat.validate(vat_raw)
        except StdnumError as exc:
            broken.append(("vat_number", _stdnum_rule(exc, "EU VAT number")))
        else:
            if vat_number.startswith("FR") and siren_number and vat_number[4:] != siren_number:
                broken.append(("vat_number", "does not match the SIREN of the debtor"))
    return siren_number, siret_number, vat_number, tuple(broken)


@lru_cache(maxsize=4096)
def _checked_email(raw: str) -> tuple[str, str]:
    """(normalised address, '') or ('', the rule broken); cached: imports repeat debtors."""
    if len(raw) > MAX_EMAIL:
        return "", f"must be at most {MAX_EMAIL} characters"
    try:
        return validate_email(raw, check_deliverability=False).normalized, ""
    except EmailNotValidError as exc:
        return "", f"is not a valid e-mail address ({exc})"


@lru_cache(maxsize=4096)
def _checked_phone(raw: str, country: str) -> str:
    """The number in E.164, or '' when it is not a valid phone number."""
    try:
        number = phonenumbers.parse(raw, country)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_valid_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _contact(checks: Checks, path: str, raw: DebtorInput, country: str) -> tuple[str, str]:
    email = phone = ""
    if raw.email.strip():
        email, rule = _checked_email(raw.email.strip())
        if rule:
            checks.fail(f"{path}.email", rule)
    if raw.phone.strip():
        phone = _checked_phone(raw.phone.strip(), country or "FR")
        if not phone:
            checks.fail(f"{path}.phone", "is not a valid phone number (E.164, e.g. +33612345678)")
    return email, phone


def _bank(checks: Checks, path: str, raw: DebtorInput) -> tuple[str, str]:
    iban = bic = ""
    if raw.iban.strip():
        try:
            iban = IBAN(raw.iban).compact
        except SchwiftyException as exc:
            checks.fail(f"{path}.bank_account.iban", f"is not a valid IBAN ({exc})")
    elif raw.bic.strip():
        checks.fail(f"{path}.bank_account.iban", "is required with a BIC")
    if raw.bic.strip():
        try:
            bic = BIC(raw.bic.strip()).compact
        except SchwiftyException as exc:
            checks.fail(f"{path}.bank_account.bic", f"is not a valid BIC ({exc})")
    return iban, bic


def checked_debtor(checks: Checks, raw: DebtorInput) -> Debtor:
    """The validated debtor; every broken rule is noted on `checks`."""
    path = "debtor"
    kind = raw.kind.strip().lower()
    if kind not in (COMPANY, CONSUMER):
        checks.fail(f"{path}.kind", "must be COMPANY or CONSUMER")
    name = checks.text(f"{path}.name", raw.name, MAX_NAME)
    siren_number = siret_number = vat_number = ""
    if kind == CONSUMER:
        if raw.siren_or_siret.strip():
            checks.fail(f"{path}.siren_or_siret", "is only for a company debtor")
        if raw.vat_number.strip():
            checks.fail(f"{path}.vat_number", "is only for a company debtor")
    else:
        siren_number, siret_number, vat_number = _company_ids(checks, path, raw)
    lines = tuple(line.strip() for line in raw.address_lines if line.strip())
    postal_code, city = raw.postal_code.strip(), raw.city.strip()
    country_raw = raw.country_code.strip().upper()
    if country_raw and pycountry.countries.get(alpha_2=country_raw) is None:
        checks.fail(f"{path}.address.country_code", "must be an ISO 3166-1 alpha-2 code, e.g. FR")
    # A country alone says where the debtor is, not where to write: it is no address to complete.
    country = country_raw
    if lines or postal_code or city:
        country = country_raw or "FR"
        if len(lines) > MAX_ADDRESS_LINES:
            checks.fail(f"{path}.address.lines", f"must have at most {MAX_ADDRESS_LINES} lines")
        for index, line in enumerate(lines):
            if len(line) > MAX_ADDRESS_LINE:
                checks.fail(
                    f"{path}.address.lines[{index}]",
                    f"must be at most {MAX_ADDRESS_LINE} characters",
                )
        if not postal_code:
            checks.fail(f"{path}.address.postal_code", "is required with an address")
        elif country == "FR" and not (len(postal_code) == 5 and postal_code.isdigit()):
            checks.fail(f"{path}.address.postal_code", "must be 5 digits in France")
        elif len(postal_code) > 16:
            checks.fail(f"{path}.address.postal_code", "must be at most 16 characters")
        checks.text(f"{path}.address.city", city, MAX_ADDRESS_LINE)
    email, phone = _contact(checks, path, raw, country_raw or "FR")
    iban, bic = _bank(checks, path, raw)
    return Debtor(
        kind=kind,
        name=name,
        siren=siren_number,
        siret=siret_number,
        vat_number=vat_number,
        address_lines=lines,
        postal_code=postal_code,
        city=city,
        country_code=country,
        email=email,
        phone=phone,
        iban=iban,
        bic=bic,
    )
