"""What intake is asked to do, and by whom: small frozen commands, read by the service layer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from intake.domain.debtors import DebtorInput
from intake.domain.invoices import InvoiceInput

INTERNAL = "service"


@dataclass(frozen=True)
class Requester:
    """Who asks: an internal service (the default), a creditor, a partner acting for a creditor,
    or anyone else (a provider, a debtor), for whom no case exists."""

    kind: str = INTERNAL
    tenant_id: str = ""


@dataclass(frozen=True)
class IdempotencyKey:
    """The client's idempotency key and the content it is bound to ('' key: no protection)."""

    key: str = ""
    content: bytes = b""


@dataclass(frozen=True)
class SubmitCase:
    """Command: record a new case for a creditor."""

    creditor_id: str
    debtor: DebtorInput
    invoices: tuple[InvoiceInput, ...]
    disputed: bool = False
    notes: str = ""
    source: str = "api"
    requester: Requester = Requester()
    idempotency: IdempotencyKey = IdempotencyKey()


@dataclass(frozen=True)
class ImportCases:
    """Command: record every acceptable case of a CSV file (services/intake/docs/csv-import.md)."""

    content: bytes
    creditor_id: str = ""
    requester: Requester = Requester()
    idempotency_key: str = ""


@dataclass(frozen=True)
class ImportEInvoice:
    """Command: record the case one e-invoice describes (Factur-X PDF, CII or UBL XML)."""

    content: bytes
    creditor_id: str = ""
    disputed: bool = False
    notes: str = ""
    amount_due: str = ""
    # The importing creditor's SIREN, when the gateway knows it: the seller must be that company.
    creditor_siren: str = ""
    requester: Requester = Requester()
    idempotency: IdempotencyKey = IdempotencyKey()


@dataclass(frozen=True)
class WithdrawCase:
    """Command: the creditor stops the collection of an open case."""

    case_id: str
    reason: str
    creditor_id: str = ""
    requester: Requester = Requester()
    idempotency: IdempotencyKey = IdempotencyKey()


@dataclass(frozen=True)
class DeclarePayment:
    """Command: the creditor says the debtor paid it directly, in full or in part."""

    case_id: str
    amount: str
    currency: str
    paid_on: str
    settles_in_full: bool = False
    creditor_id: str = ""
    requester: Requester = Requester()
    idempotency: IdempotencyKey = IdempotencyKey()


@dataclass(frozen=True)
class GetCase:
    """Query: one case and what its debtor owes on a date (today when `as_of` is empty)."""

    case_id: str
    creditor_id: str = ""
    as_of: str = ""
    requester: Requester = Requester()


@dataclass(frozen=True)
class GetDebtorSiren:
    """Query: a case's debtor SIREN, asked by the service named ('' when no service asks)."""

    case_id: str
    service: str = ""


@dataclass(frozen=True)
class ListCases:
    """Query: a page of the creditor's cases, newest first, narrowed by the filters given."""

    creditor_id: str = ""
    statuses: tuple[str, ...] = ()
    # A debtor's name (or part of it), or its SIREN (9 digits).
    debtor: str = ""
    submitted_from: str = ""
    submitted_to: str = ""
    currency: str = ""
    min_amount: str = ""
    max_amount: str = ""
    page_token: str = ""
    page_size: int = 0
    requester: Requester = Requester()


@dataclass(frozen=True)
class GetCaseTimeline:
    """Query: what happened to a case, oldest first."""

    case_id: str
    creditor_id: str = ""
    requester: Requester = Requester()


@dataclass(frozen=True)
class NoteCaseScored:
    """Command: scoring scored a case; note it on the case's timeline."""

    case_id: str
    event_id: str
    event_type: str
    producer: str
    occurred_at: datetime | None
    trustscore: int
    segment: str
    strategy: str
    trigger: str
    debtor_insolvent: bool


@dataclass(frozen=True)
class ImportRates:
    """Command: an operator imports the ECB Data Portal's export of the main refinancing rate."""

    content: bytes
    file_name: str
    # The day the export was downloaded ('' when not said): the table is verified through it.
    downloaded_on: str = ""


@dataclass(frozen=True)
class NoteCaseFact:
    """Command: matching says something happened to a case; note it on the timeline and, when
    it moves the case forward, follow it (`status` '' for a fact that moves nothing)."""

    case_id: str
    event_id: str
    event_type: str
    producer: str
    occurred_at: datetime | None
    summary: str
    status: str = ""
    round: int = 0
    holder_provider_id: str = ""
    window_ends_at: datetime | None = None


@dataclass(frozen=True)
class GetCaseFile:
    """Query: the full case file, for the provider holding the case now (and nobody else)."""

    case_id: str
    requester: Requester = Requester()
