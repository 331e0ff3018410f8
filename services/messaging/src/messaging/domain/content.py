"""What a message to a debtor says, as facts: who collects, for whom, what is owed and how to pay.

The first message of each holder carries every mention of Code des procédures civiles
d'exécution R124-4; `missing_first_letter_facts` refuses to compose one without the facts those
mentions need, so an unlawful first letter is never rendered. Amounts exclude every cost that
L111-8 leaves to the creditor: the collector's fees are never part of what the debtor is asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from messaging.domain.outgoing import MessageToSend
from recouvra_shared.errors import InvalidRequest, Violation
from recouvra_shared.legal.money import exponent


@dataclass(frozen=True)
class Party:
    """A person or company named in a message, with a postal address (lines, postcode, city)."""

    name: str
    address_lines: tuple[str, ...] = ()
    postal_code: str = ""
    city: str = ""
    country_code: str = "FR"

    @property
    def has_address(self) -> bool:
        """A postal address a letter can reach: street or city, and a postal code."""
        return bool((self.address_lines or self.city) and self.postal_code)


@dataclass(frozen=True)
class Debtor:
    """Who is asked to pay, and where messages reach them."""

    party: Party
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class InvoiceBasis:
    """One invoice the claim rests on (its basis, R124-4 3°)."""

    number: str
    issue_date: str
    due_date: str
    amount_due_minor: int


@dataclass(frozen=True)
class ClaimAmounts:
    """What is owed, itemised (R124-4 3°), in minor units of one currency.

    `other_sums` holds only what the law puts on the debtor (the fixed recovery indemnity of
    Code de commerce L441-10): never the collection costs that L111-8 leaves to the creditor.
    """

    currency: str
    principal_minor: int
    interest_minor: int
    other_sums_minor: int
    as_of: str

    @property
    def total_minor(self) -> int:
        """Principal, interest and other sums: the amount the debtor is asked to pay."""
        return self.principal_minor + self.interest_minor + self.other_sums_minor


@dataclass(frozen=True)
class PaymentDetails:
    """How to pay (R124-4 4°): the client-money account, the case's RF reference, the amount."""

    beneficiary: str
    iban: str
    iban_formatted: str
    bic: str
    reference: str
    reference_formatted: str
    amount_minor: int
    currency: str
    epc_qr_payload: str  # EPC069-12 text; empty when settlement gave none


@dataclass(frozen=True)
class PayLink:
    """A payment link for the amount the message asks (pay by link: the debtor's bank pre-fills
    the transfer), shown with its QR code beside the EPC QR; it expires, and is replaced when
    the amount changes."""

    url: str
    amount_minor: int
    expires_on: date


@dataclass(frozen=True)
class MessageFacts:
    """Everything a template may show: nothing else reaches the sandbox."""

    message: MessageToSend
    reference: str  # this message's reference, printed on it
    sent_on: date
    debtor: Debtor
    holder: Party  # the collector (R124-4 1°)
    creditor: Party  # R124-4 2°
    invoices: tuple[InvoiceBasis, ...]
    amounts: ClaimAmounts
    payment: PaymentDetails
    portal_url: str
    # The holder's first letter, cited by every later message (R124-4, last paragraph).
    first_reference: str = ""
    first_sent_on: date | None = None
    pay_link: PayLink | None = None  # none when settlement could not give one (Bridge down)


class Mention(StrEnum):
    """The mentions R124-4 requires in a collector's first letter, each checked by a test."""

    COLLECTOR_IDENTITY = "collector_identity"  # 1° name and address of the collector
    AMICABLE_ACTIVITY = "amicable_activity"  # 1° that it collects amicably
    CREDITOR_IDENTITY = "creditor_identity"  # 2° name and address of the creditor
    CLAIM_BASIS = "claim_basis"  # 3° the basis of the claim
    AMOUNT_ITEMISED = "amount_itemised"  # 3° principal, interest, other sums, excluding costs
    DEMAND_TO_PAY = "demand_to_pay"  # 4° the demand to pay
    PAYMENT_TERMS = "payment_terms"  # 4° how to pay
    L111_8_TEXT = "l111_8_text"  # 5° L111-8 paragraphs 2 and 3, reproduced


# Code des procédures civiles d'exécution, L111-8, paragraphs 2 and 3, reproduced verbatim in
# every first letter (R124-4 5°). The law is French: the English letter quotes it in French too,
# followed by a translation for the reader.
L111_8_PARAGRAPHS = (
    "Les frais de recouvrement entrepris sans titre exécutoire restent à la charge du créancier, "
    "sauf s'ils concernent un acte dont l'accomplissement est prescrit par la loi au créancier. "
    "Toute stipulation contraire est réputée non écrite, sauf disposition législative contraire.",
    "Cependant, le créancier qui justifie du caractère dolosif de l'inexécution peut demander au "
    "juge de l'exécution de laisser tout ou partie des frais ainsi exposés à la charge du "
    "débiteur de mauvaise foi.",
)


def missing_first_letter_facts(facts: MessageFacts) -> list[Violation]:
    """The facts a first letter lacks to carry every R124-4 mention; empty when it may go."""
    missing: list[Violation] = []

    def need(ok: bool, field: str, rule: str) -> None:
        if not ok:
            missing.append(Violation(field, rule))

    need(bool(facts.holder.name), "holder.name", "R124-4 1°: the collector's name is required")
    need(facts.holder.has_address, "holder.address", "R124-4 1°: the collector's address")
    need(bool(facts.creditor.name), "creditor.name", "R124-4 2°: the creditor's name")
    need(facts.creditor.has_address, "creditor.address", "R124-4 2°: the creditor's address")
    need(bool(facts.invoices), "invoices", "R124-4 3°: the basis of the claim (its invoices)")
    need(facts.amounts.total_minor > 0, "amounts", "R124-4 3°: a positive amount owed")
    need(
        bool(facts.payment.iban and facts.payment.reference),
        "payment",
        "R124-4 4°: how to pay (account and reference)",
    )
    return missing


def require_lawful(facts: MessageFacts) -> None:
    """Refuse a message that cannot be lawful: a first letter without its R124-4 facts, a later
    one without the first letter's reference and date."""
    if facts.message.step == 1:
        missing = missing_first_letter_facts(facts)
    else:
        missing = []
        if not facts.first_reference or facts.first_sent_on is None:
            missing.append(
                Violation(
                    "first_sent_on",
                    "R124-4: a later message repeats the first letter's reference and date",
                )
            )
    if missing:
        raise InvalidRequest(missing)


def message_reference(case_id: str, round_: int, step: int) -> str:
    """The reference printed on a message, cited by later ones: short, stable, per step."""
    return f"RCV-{case_id.replace('-', '')[:10].upper()}-R{round_}-S{step}"


@dataclass(frozen=True)
class CaseFacts:
    """What intake knows of a case that a message needs."""

    case_id: str
    creditor_id: str
    debtor: Debtor
    invoices: tuple[InvoiceBasis, ...]
    amounts: ClaimAmounts
    holder_id: str = ""  # the provider holding the case now; empty when none does


def format_money(minor: int, currency: str, language: str) -> str:
    """An amount as its reader writes it: "1 234,56 EUR" in French, "1,234.56 EUR" in English."""
    digits = exponent(currency)
    units, cents = divmod(abs(minor), 10**digits)
    grouped = f"{units:,}"
    sign = "-" if minor < 0 else ""
    if language == "fr":
        grouped = grouped.replace(",", "\u202f")
        return f"{sign}{grouped}{',' + str(cents).zfill(digits) if digits else ''} {currency}"
    return f"{sign}{grouped}{'.' + str(cents).zfill(digits) if digits else ''} {currency}"


# The words by which a reader recognises the mentions that are phrases rather than facts.
PHRASES = {
    "fr": {
        Mention.AMICABLE_ACTIVITY: "exerce une activité de recouvrement amiable",
        Mention.DEMAND_TO_PAY: "Nous vous demandons de payer",
        Mention.PAYMENT_TERMS: "Modalités de paiement",
    },
    "en": {
        Mention.AMICABLE_ACTIVITY: "carries on amicable debt collection",
        Mention.DEMAND_TO_PAY: "We ask you to pay",
        Mention.PAYMENT_TERMS: "How to pay",
    },
}


def expected_mentions(facts: MessageFacts) -> dict[Mention, tuple[str, ...]]:
    """For each R124-4 mention, the texts a first letter must show for this case."""
    lang = facts.message.language
    cur = facts.amounts.currency

    def money(minor: int) -> str:
        return format_money(minor, cur, lang)

    def party(p: Party) -> tuple[str, ...]:
        return (p.name, *p.address_lines, p.postal_code, p.city)

    phrases = PHRASES.get(lang, PHRASES["en"])
    return {
        Mention.COLLECTOR_IDENTITY: party(facts.holder),
        Mention.AMICABLE_ACTIVITY: (phrases[Mention.AMICABLE_ACTIVITY],),
        Mention.CREDITOR_IDENTITY: party(facts.creditor),
        Mention.CLAIM_BASIS: tuple(i.number for i in facts.invoices),
        Mention.AMOUNT_ITEMISED: (
            money(facts.amounts.principal_minor),
            money(facts.amounts.interest_minor),
            money(facts.amounts.other_sums_minor),
            money(facts.amounts.total_minor),
        ),
        Mention.DEMAND_TO_PAY: (phrases[Mention.DEMAND_TO_PAY],),
        Mention.PAYMENT_TERMS: (
            phrases[Mention.PAYMENT_TERMS],
            facts.payment.iban_formatted,
            facts.payment.reference_formatted,
        ),
        Mention.L111_8_TEXT: L111_8_PARAGRAPHS,
    }


def absent_mentions(text: str, facts: MessageFacts) -> list[Mention]:
    """The R124-4 mentions a first letter's text fails to show (whitespace-insensitive), so a
    template overridden by a creditor or a provider cannot drop one."""
    flat = " ".join(text.split())
    return [
        mention
        for mention, snippets in expected_mentions(facts).items()
        if not all(" ".join(s.split()) in flat for s in snippets if s)
    ]
