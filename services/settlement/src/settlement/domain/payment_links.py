"""Pay by link: payment-initiation links for a case and an amount, the payments they report,
and the money announced before any bank statement shows it.

A link is the provider's payment session: the debtor opens it, picks its bank, confirms a
pre-filled SEPA transfer to the client-money account under the case's RF reference. The
provider then reports the payment's status; an executed payment is booked at once as money
announced (Dr 5112 / Cr 4718, transit accounts: no creditor is credited yet), and cleared when
the camt.053 line with the same end-to-end id arrives (the line itself books the money once, as
any other bank credit), or unwound when it is rejected or never arrives.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from recouvra_shared.errors import (
    InvalidField,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    Violation,
)
from settlement.domain.accounts import ANNOUNCED_PAYMENTS, ANNOUNCED_TO_COLLECT, account
from settlement.domain.ledger import Line, credit, debit

MAX_EXPIRY_DAYS = 90  # Bridge: a payment link lives at most 90 days
MAX_LINK_CENTS = 99_999_999_999  # the EPC QR's and the instructions' ceiling, kept alike


class LinkStatus(StrEnum):
    """A link as settlement keeps it: the live link of a case for a purpose, or why it no longer
    is."""

    LIVE = "live"
    REPLACED = "replaced"  # the amount changed: revoked at the provider, a new one given
    COMPLETED = "completed"  # a payment was initiated from it
    EXPIRED = "expired"


class LinkPurpose(StrEnum):
    """What a link asks for. A case has one live link per purpose, so a link for an instalment
    or a promised amount never revokes the link for the whole amount (a letter's), nor the
    reverse; within a purpose a new amount replaces the old link."""

    WHOLE_AMOUNT = "whole-amount"  # letters, e-mails, the portal's "pay everything"
    INSTALMENT = "instalment"  # the portal: the instalment due
    PROMISE = "promise"  # the portal: the amount the debtor promised


def checked_purpose(text: str) -> LinkPurpose:
    """A link's purpose; empty means the whole amount (callers before purposes existed)."""
    if not text:
        return LinkPurpose.WHOLE_AMOUNT
    try:
        return LinkPurpose(text)
    except ValueError:
        allowed = ", ".join(p.value for p in LinkPurpose)
        raise InvalidField("purpose", f"must be one of {allowed}") from None


class PaymentStatus(StrEnum):
    """What the provider reports of a payment initiated from a link (Bridge's ISO 20022 codes
    reduced to what settlement acts on)."""

    PENDING = "pending"  # CREA, ACTC (being created), PDNG (confirmed, to be executed)
    EXECUTED = "executed"  # ACSC: executed by the debtor's bank
    REJECTED = "rejected"  # RJCT (and CANC, of older versions)


class AnnouncementStatus(StrEnum):
    """An announced payment: waiting for its bank line, matched to it, or unwound."""

    ANNOUNCED = "announced"
    MATCHED = "matched"
    UNWOUND = "unwound"


class UnwindReason(StrEnum):
    """Why an announcement was unwound."""

    REJECTED = "rejected"
    UNMATCHED = "unmatched"


@dataclass(frozen=True)
class Payer:
    """Who pays, as the bank's page names it: a company, or a first and last name."""

    company_name: str = ""
    first_name: str = ""
    last_name: str = ""


@dataclass(frozen=True)
class PaymentLink:
    """A link given for a case and an amount, as settlement keeps it."""

    link_id: str
    case_id: str
    amount_minor: int
    currency: str
    reference: str
    url: str
    expires_at: datetime
    created_at: datetime
    status: LinkStatus = LinkStatus.LIVE
    replaced_by: str | None = None
    purpose: LinkPurpose = LinkPurpose.WHOLE_AMOUNT

    def usable_at(self, now: datetime) -> bool:
        """Live and not expired: the link a debtor can still pay with."""
        return self.status is LinkStatus.LIVE and self.expires_at > now


@dataclass(frozen=True)
class StatusNotification:
    """A provider's status notification, its signature verified: which payment, of which link,
    in which state, sent when."""

    notification_id: str  # the provider's event identity: one effect per id
    kind: str  # e.g. payment.transaction.updated, payment.link.updated
    sent_at: datetime
    link_id: str | None
    transaction_id: str | None
    end_to_end_id: str | None
    client_reference: str | None
    payment_status: PaymentStatus | None
    link_status: str | None = None


@dataclass(frozen=True)
class Announcement:
    """An executed payment reported by the provider, before the bank statement shows it."""

    announcement_id: str
    transaction_id: str
    link_id: str
    case_id: str
    creditor_id: str
    amount_minor: int
    currency: str
    end_to_end_id: str
    announced_at: datetime
    entry_id: str
    status: AnnouncementStatus = AnnouncementStatus.ANNOUNCED
    settled_entry_id: str | None = None  # the clearing entry (matched) or the reversal (unwound)
    receipt_id: str | None = None
    unwind_reason: UnwindReason | None = None


def checked_link_amount(cents: int | None, currency: str) -> int:
    """The amount a link asks for: EUR, at least 0.01, at most 999,999,999.99."""
    problems: list[Violation] = []
    if currency != "EUR":
        problems.append(Violation("amount.currency", "must be EUR (the client-money account's)"))
    if cents is None or cents < 1:
        problems.append(Violation("amount.minor_units", "must be at least 1 (0.01 EUR)"))
    elif cents > MAX_LINK_CENTS:
        problems.append(
            Violation("amount.minor_units", "must be at most 99999999999 (999,999,999.99 EUR)")
        )
    if problems:
        raise InvalidRequest(problems)
    assert cents is not None
    return cents


def checked_expiry_days(days: int) -> int:
    """How long a new link lives: 1 to 90 days (Bridge's ceiling)."""
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise InvalidField("link_expiry_days", f"must be between 1 and {MAX_EXPIRY_DAYS}")
    return days


def expiry_of(now: datetime, days: int) -> datetime:
    """When a link made now expires."""
    return now + timedelta(days=checked_expiry_days(days))


def checked_payer(payer: Payer, reference: str) -> Payer:
    """A company name, or a first and last name together; neither: the case's reference stands
    for the payer (the bank's page shows it; settlement keeps no debtor names)."""
    if payer.company_name:
        return Payer(company_name=payer.company_name[:140])
    if payer.first_name or payer.last_name:
        if not (payer.first_name and payer.last_name):
            raise InvalidField("payer_last_name", "a first name needs a last name, and the reverse")
        return Payer(first_name=payer.first_name[:70], last_name=payer.last_name[:70])
    return Payer(company_name=f"Dossier {reference}")


def is_stale(sent_at: datetime, now: datetime, tolerance: timedelta) -> bool:
    """A notification signed further from now than the tolerance, either way: refused, so a
    captured notification cannot be replayed later (the id check covers the tolerance)."""
    return abs(now - sent_at) > tolerance


def announcement_lines(amount_minor: int, case_id: str) -> tuple[Line, ...]:
    """Money announced: to collect from the provider's executed transfer, owed to nobody yet."""
    return (
        debit(account(ANNOUNCED_TO_COLLECT), amount_minor, case_id),
        credit(account(ANNOUNCED_PAYMENTS), amount_minor, case_id),
    )


def clearing_lines(amount_minor: int, case_id: str) -> tuple[Line, ...]:
    """The bank line arrived and booked the money as any credit: the announcement is cleared."""
    return (
        debit(account(ANNOUNCED_PAYMENTS), amount_minor, case_id),
        credit(account(ANNOUNCED_TO_COLLECT), amount_minor, case_id),
    )


# Who may ask for a link: messaging (letters, e-mails) and the gateway (the debtor portal acting
# as a service), and the debtor (through the portal) for its own case only.
SERVICES_GIVEN_LINKS = frozenset({"messaging", "gateway"})


def check_may_ask_link(caller_kind: str, caller_subject: str, case_id: str) -> None:
    """Refuse anyone but the services that send demands for payment and the case's debtor."""
    if caller_kind == "service":
        if caller_subject in SERVICES_GIVEN_LINKS:
            return
        raise PermissionDenied(f"service {caller_subject} is not given payment links")
    if caller_kind == "debtor":
        if caller_subject != case_id:
            raise NotFound(f"no case {case_id}")
        return
    raise PermissionDenied("payment links are given to messaging, the gateway and the debtor")
