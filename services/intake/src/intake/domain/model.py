"""The case as intake knows it: a creditor, one debtor, unpaid invoices; and the rules a new
case must satisfy. Every broken rule is collected so that the caller can fix them all at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
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

from intake.domain.errors import InvalidRequest, Violation
from intake.domain.legal import prescribed_after, prescription_rule
from intake.domain.money import AmountError, exponent, to_minor_units
from recouvra_shared.text import CONTROL_CHARACTERS_RULE, has_control_characters

COMPANY = "company"
CONSUMER = "consumer"
MAX_NAME = 200
MAX_INVOICE_NUMBER = 100
MAX_DESCRIPTION = 500
MAX_NOTES = 4000
MAX_ADDRESS_LINE = 100
MAX_ADDRESS_LINES = 3
MAX_EMAIL = 254
MAX_CREDITOR_ID = 64
MAX_INVOICES = 100

SUBMITTED = "submitted"
SCORED = "scored"
WITHDRAWN = "withdrawn"
PAID_DIRECTLY = "paid_directly"
CLOSED_STATUSES = frozenset({WITHDRAWN, PAID_DIRECTLY})


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
class InvoiceInput:
    """One unpaid invoice as the creditor typed it."""

    invoice_number: str
    issue_date: str
    due_date: str
    currency: str
    amount_due: str
    total_amount: str = ""
    description: str = ""


@dataclass(frozen=True)
class SubmitCase:
    """Command: record a new case for a creditor."""

    creditor_id: str
    debtor: DebtorInput
    invoices: tuple[InvoiceInput, ...]
    disputed: bool = False
    notes: str = ""
    source: str = "api"


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


@dataclass(frozen=True)
class InvoiceLine:
    """A validated unpaid invoice; amounts in minor units of the case currency."""

    invoice_number: str
    issue_date: date
    due_date: date
    amount_due_minor: int
    total_minor: int | None = None
    description: str = ""


@dataclass(frozen=True)
class DeclaredPayment:
    """The creditor says the debtor paid it directly."""

    amount_minor: int
    paid_on: date
    settles_in_full: bool


@dataclass(frozen=True)
class Case:
    """A creditor's case against one debtor."""

    case_id: str
    creditor_id: str
    debtor: Debtor
    currency: str
    invoices: tuple[InvoiceLine, ...]
    disputed: bool
    notes: str = ""
    source: str = "api"
    status: str = SUBMITTED
    withdrawn_reason: str = ""
    payments: tuple[DeclaredPayment, ...] = field(default=())
    submitted_at: datetime | None = None

    @property
    def principal_minor(self) -> int:
        """Total principal of the invoices as submitted."""
        return sum(i.amount_due_minor for i in self.invoices)

    @property
    def first_invoice(self) -> InvoiceLine:
        """The earliest-due invoice (the one older contracts name)."""
        return min(self.invoices, key=lambda i: (i.due_date, i.invoice_number))


class _Checks:
    """Collects violations instead of stopping at the first."""

    def __init__(self) -> None:
        self.violations: list[Violation] = []

    def fail(self, path: str, rule: str) -> None:
        self.violations.append(Violation(path, rule))

    def text(self, path: str, value: str, limit: int, *, required: bool = True) -> str:
        value = value.strip()
        if not value:
            if required:
                self.fail(path, "is required")
        elif has_control_characters(value):
            self.fail(path, CONTROL_CHARACTERS_RULE)
        elif len(value) > limit:
            self.fail(path, f"must be at most {limit} characters")
        return value

    def date(self, path: str, value: str, today: date) -> date | None:
        value = value.strip()
        if not value:
            self.fail(path, "is required")
            return None
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            self.fail(path, "must be an ISO 8601 date (YYYY-MM-DD)")
            return None
        if parsed > today:
            self.fail(path, f"must not be in the future (today is {today})")
        return parsed


def _stdnum_rule(exc: StdnumError, name: str) -> str:
    if isinstance(exc, InvalidChecksum):
        return f"is not a valid {name}: the check digit is wrong"
    if isinstance(exc, InvalidLength):
        return f"is not a valid {name}: wrong length"
    if isinstance(exc, InvalidFormat | InvalidComponent):
        return f"is not a valid {name}: wrong format"
    return f"is not a valid {name}"


def _company_ids(checks: _Checks, path: str, raw: DebtorInput) -> tuple[str, str, str]:
    siren_number = siret_number = vat_number = ""
    identifier = "".join(raw.siren_or_siret.split())
    if identifier:
        if len(identifier) == 14:
            try:
                siret_number = siret.validate(identifier)
                siren_number = siret_number[:9]
            except StdnumError as exc:
                checks.fail(f"{path}.siren_or_siret", _stdnum_rule(exc, "SIRET"))
        elif len(identifier) == 9:
            try:
                siren_number = siren.validate(identifier)
            except StdnumError as exc:
                checks.fail(f"{path}.siren_or_siret", _stdnum_rule(exc, "SIREN"))
        else:
            checks.fail(
                f"{path}.siren_or_siret", "must be a SIREN (9 digits) or a SIRET (14 digits)"
            )
    if raw.vat_number.strip():
        try:
            vat_number = vat.validate(raw.vat_number)
        except StdnumError as exc:
            checks.fail(f"{path}.vat_number", _stdnum_rule(exc, "EU VAT number"))
        else:
            if vat_number.startswith("FR") and siren_number and vat_number[4:] != siren_number:
                checks.fail(f"{path}.vat_number", "does not match the SIREN of the debtor")
    return siren_number, siret_number, vat_number


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


def _contact(checks: _Checks, path: str, raw: DebtorInput, country: str) -> tuple[str, str]:
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


def _bank(checks: _Checks, path: str, raw: DebtorInput) -> tuple[str, str]:
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


def _debtor(checks: _Checks, raw: DebtorInput) -> Debtor:
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
    postal_code, city, country = raw.postal_code.strip(), raw.city.strip(), ""
    country_raw = raw.country_code.strip().upper()
    if country_raw and pycountry.countries.get(alpha_2=country_raw) is None:
        checks.fail(f"{path}.address.country_code", "must be an ISO 3166-1 alpha-2 code, e.g. FR")
    if lines or postal_code or city or country_raw:
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


def _invoice(
    checks: _Checks, index: int, raw: InvoiceInput, currency: str, company: bool, today: date
) -> InvoiceLine | None:
    path = f"invoices[{index}]"
    before = len(checks.violations)
    number = checks.text(f"{path}.invoice_number", raw.invoice_number, MAX_INVOICE_NUMBER)
    issued = checks.date(f"{path}.issue_date", raw.issue_date, today)
    due = checks.date(f"{path}.due_date", raw.due_date, today)
    if issued and due and due < issued:
        checks.fail(f"{path}.due_date", "must not be before issue_date")
    if due and due <= today:
        limit = prescribed_after(due, company)
        if today > limit:
            checks.fail(
                f"{path}.due_date",
                f"the claim is prescribed: it could be claimed until {limit} "
                f"({prescription_rule(company)})",
            )
    code = raw.currency.strip().upper()
    amount = total = None
    try:
        exponent(code)
    except AmountError as exc:
        checks.fail(f"{path}.currency", str(exc))
    else:
        if currency and code != currency:
            checks.fail(f"{path}.currency", f"must be {currency}, the currency of invoices[0]")
        try:
            amount = to_minor_units(raw.amount_due, code)
        except AmountError as exc:
            checks.fail(f"{path}.amount_due", str(exc))
        if raw.total_amount.strip():
            try:
                total = to_minor_units(raw.total_amount, code)
            except AmountError as exc:
                checks.fail(f"{path}.total_amount", str(exc))
            else:
                if amount is not None and total < amount:
                    checks.fail(f"{path}.total_amount", "must not be less than amount_due")
    description = checks.text(
        f"{path}.description", raw.description, MAX_DESCRIPTION, required=False
    )
    if len(checks.violations) > before or issued is None or due is None or amount is None:
        return None
    return InvoiceLine(
        invoice_number=number,
        issue_date=issued,
        due_date=due,
        amount_due_minor=amount,
        total_minor=total,
        description=description,
    )


def new_case(command: SubmitCase, today: date) -> Case:
    """Validate a submission and make the case; InvalidRequest lists every broken rule."""
    checks = _Checks()
    creditor_id = checks.text("creditor_id", command.creditor_id, MAX_CREDITOR_ID)
    debtor = _debtor(checks, command.debtor)
    if not command.invoices:
        checks.fail("invoices", "must list at least one unpaid invoice")
    elif len(command.invoices) > MAX_INVOICES:
        checks.fail("invoices", f"must list at most {MAX_INVOICES} invoices per case")
    currency = command.invoices[0].currency.strip().upper() if command.invoices else ""
    lines: list[InvoiceLine] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(command.invoices[:MAX_INVOICES]):
        line = _invoice(checks, index, raw, currency, debtor.kind != CONSUMER, today)
        number = raw.invoice_number.strip()
        if number in seen:
            checks.fail(
                f"invoices[{index}].invoice_number",
                f"repeats invoices[{seen[number]}] in this case",
            )
        seen.setdefault(number, index)
        if line is not None:
            lines.append(line)
    notes = checks.text("notes", command.notes, MAX_NOTES, required=False)
    if checks.violations:
        raise InvalidRequest(checks.violations)
    return Case(
        case_id=str(uuid.uuid4()),
        creditor_id=creditor_id,
        debtor=debtor,
        currency=currency,
        invoices=tuple(lines),
        disputed=command.disputed,
        notes=notes,
        source=command.source,
    )


def declared_payment(
    case: Case, amount: str, currency: str, paid_on: str, settles_in_full: bool, today: date
) -> DeclaredPayment:
    """Validate a payment the creditor declares on a case."""
    checks = _Checks()
    minor = 0
    code = currency.strip().upper() or case.currency
    if code != case.currency:
        checks.fail("currency", f"must be {case.currency}, the currency of the case")
    else:
        try:
            minor = to_minor_units(amount, code)
        except AmountError as exc:
            checks.fail("amount", str(exc))
    day = checks.date("paid_on", paid_on, today)
    if checks.violations or day is None:
        raise InvalidRequest(checks.violations)
    return DeclaredPayment(amount_minor=minor, paid_on=day, settles_in_full=settles_in_full)


def withdrawal_reason(reason: str) -> str:
    """Validate the reason the creditor gives for a withdrawal."""
    checks = _Checks()
    text = checks.text("reason", reason, MAX_DESCRIPTION)
    if checks.violations:
        raise InvalidRequest(checks.violations)
    return text


def debtor_kind(is_company: bool) -> str:
    """The debtor kind of the older boolean field."""
    return COMPANY if is_company else CONSUMER
