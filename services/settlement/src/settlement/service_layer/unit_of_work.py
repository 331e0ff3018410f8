"""What settlement's use cases need from storage: ledger, references, outbox, a commit."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Protocol

from recouvra_shared.unit_of_work import UnitOfWorkProtocol
from settlement.domain.accounts import Account, PartyKind
from settlement.domain.billing import BillingChange, CreditorBilling, ProviderBilling
from settlement.domain.documents import Reader
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.held_funds import Movement, Receipt
from settlement.domain.invariants import LedgerRows
from settlement.domain.invoice_requests import InvoiceRequest
from settlement.domain.invoices import Invoice, InvoiceKind, InvoiceParty, PartyRole
from settlement.domain.ledger import Balance, JournalEntry
from settlement.domain.payee_accounts import PayeeAccount
from settlement.domain.payouts import BatchState, PaidOut, PartyPosition, PayoutBatch
from settlement.service_layer.money_in_ports import ReceiptRepository, SettledCaseRepository
from settlement.service_layer.payment_link_ports import PaymentLinkRepository


class LedgerRepository(Protocol):
    """The chart's accounts as opened, and the journal: written once, read many ways."""

    async def open_accounts(self, accounts: Collection[Account]) -> None:
        """Open the accounts not opened yet (opening one twice changes nothing)."""

    async def add(self, entry: JournalEntry) -> JournalEntry | None:
        """Post an entry, numbered next in sequence; None (nothing posted) when its fact was
        booked already."""

    async def entry(self, entry_id: str) -> JournalEntry | None:
        """A posted entry by id."""

    async def entry_for_fact(self, fact_key: str) -> JournalEntry | None:
        """The entry a fact caused, if it was booked."""

    async def reversal_of(self, entry_id: str) -> JournalEntry | None:
        """The entry that reversed this one, if any."""

    async def balances(
        self, at: date, *, account: str | None = None, case_id: str | None = None
    ) -> list[Balance]:
        """Per account, the totals of entries booked on or before `at`, of one account or of
        one case's lines when asked, sorted by account."""

    async def rows(self) -> LedgerRows:
        """Every account, entry and line as stored, for the invariants' check and exports."""

    async def entries_between(self, first: date, last: date) -> list[JournalEntry]:
        """The entries booked from `first` to `last` included, with their lines, in date then
        number order."""


class PaymentReferenceRepository(Protocol):
    """Each case's RF creditor reference: given once, never changed, never shared."""

    async def of_case(self, case_id: str) -> str | None:
        """The case's reference, if it was given one."""

    async def add(self, case_id: str, reference: str) -> bool:
        """Give the case this reference; False (nothing stored) when the case already has one
        or another case has this one."""

    async def case_of(self, reference: str) -> str | None:
        """The case this reference was given to, if any."""


class PayoutRepository(Protocol):
    """Payees' bank details, payout batches and their files, and the ledger as payouts read it."""

    async def payee_versions(self, party_kind: PartyKind, party_id: str) -> list[PayeeAccount]:
        """Every version of a party's bank details, oldest first."""

    async def add_payee_version(self, payee: PayeeAccount) -> bool:
        """Store a new version; False (nothing stored) when that version number exists."""

    async def confirm_payee_version(self, payee: PayeeAccount) -> None:
        """Record who confirmed this (unconfirmed) version, and when."""

    async def positions(self, cutoff: date) -> list[PartyPosition]:
        """Each party's payable amount (credits booked by `cutoff` less every debit) and, for
        creditors, the fees they owe, from the ledger; parties with neither left out."""

    async def held_movements(self) -> list[Movement]:
        """What each day credited and debited to each creditor's funds held."""

    async def released_to(self, party_kind: PartyKind, party_id: str) -> list[PaidOut]:
        """The lines of released batches for one party, newest value date first."""

    async def receipts(self, creditor_id: str) -> list[Receipt]:
        """Every payment received for a creditor (a bank debit crediting its funds held)."""

    async def add_batch(self, batch: PayoutBatch) -> bool:
        """Store a proposed batch and its lines; False when another batch is still open."""

    async def open_batch(self) -> str | None:
        """The id of the batch proposed or approved and not yet released or cancelled."""

    async def batch(self, batch_id: str) -> PayoutBatch | None:
        """A batch with its lines and approvals."""

    async def add_approval(self, batch_id: str, operator: str, state: BatchState) -> None:
        """Record an operator's approval and the batch's state after it."""

    async def mark(self, batch_id: str, state: BatchState, operator: str) -> None:
        """Record a batch released or cancelled, by whom and when."""

    async def store_file(self, batch_id: str, kind: str, content: bytes) -> None:
        """Keep a released batch's bank file (`pain.001`, `pain.008`) as built, once."""

    async def file(self, batch_id: str, kind: str) -> bytes | None:
        """A released batch's bank file, byte for byte as built."""


class InvoiceRepository(Protocol):
    """Issued invoices, kept as issued with their PDF, and each issuer's counter."""

    async def for_fact(self, fact_key: str, kind: InvoiceKind) -> Invoice | None:
        """The invoice of this kind a fact caused, if issued."""

    async def next_sequence(self, series: str) -> int:
        """The series' next number, held (locked) by this transaction until it ends: a rollback
        gives it back, a commit uses it."""

    async def add(self, invoice: Invoice) -> bool:
        """Keep a numbered invoice (its PDF follows); False (nothing kept) when another
        transaction invoiced the same fact and kind first."""

    async def store_pdf(self, invoice_id: str, pdf: bytes) -> None:
        """Keep an invoice's PDF, once (a second store of it keeps the first)."""

    async def pdf_of(self, invoice_id: str) -> bytes | None:
        """An invoice's PDF, None while it is not made yet."""

    async def readable_by(self, reader: Reader) -> list[Invoice]:
        """The invoices the reader is a party to (all for an operator), newest first."""

    async def with_pdf(self, invoice_id: str) -> tuple[Invoice, bytes | None] | None:
        """An invoice and its PDF (None while not made yet), whoever it belongs to."""


class InvoiceRequestRepository(Protocol):
    """The invoices fees call for, and the parties' billing identities they are issued with."""

    async def add(self, request: InvoiceRequest, requested_at: datetime) -> None:
        """Keep a request, once per fact and kind (a second add keeps the first)."""

    async def pending(self, limit: int | None = None) -> list[InvoiceRequest]:
        """Requests not issued yet, those not known to wait first, oldest first."""

    async def mark_waiting(self, request: InvoiceRequest, reason: str) -> None:
        """Record why a request is not issued yet."""

    async def mark_issued(self, request: InvoiceRequest, invoice_id: str) -> None:
        """Record the invoice a request was issued as."""

    async def identity(self, role: PartyRole, party_id: str) -> InvoiceParty | None:
        """A creditor's or provider's billing identity, None when never set."""

    async def save_identity(self, party: InvoiceParty, operator: str, at: datetime) -> None:
        """Set (or replace) a party's billing identity; invoices issued before keep theirs."""


class BillingRepository(Protocol):
    """Providers' VAT status and creditors' referring partners, each change kept in an audit."""

    async def provider(self, provider_id: str) -> ProviderBilling | None:
        """A provider's billing profile, if it was set."""

    async def creditor(self, creditor_id: str) -> CreditorBilling | None:
        """A creditor's billing profile, if it was set."""

    async def save_provider(self, profile: ProviderBilling, change: BillingChange) -> None:
        """Set a provider's profile and record who changed it from what to what."""

    async def save_creditor(self, profile: CreditorBilling, change: BillingChange) -> None:
        """Set a creditor's profile and record who changed it from what to what."""

    async def changes(self, subject_id: str | None = None) -> list[BillingChange]:
        """The audit of profile changes, oldest first, of one party when asked."""


class FeeBookingRepository(Protocol):
    """What each attributed payment booked, to charge fixed fees once and reverse fees."""

    async def add(self, booking: FeeBooking) -> None:
        """Keep what a payment's attribution booked."""

    async def of_event(self, event_id: str) -> FeeBooking | None:
        """What this attribution event booked, if it was booked."""

    async def of_payment(self, payment_id: str) -> FeeBooking | None:
        """What the payment's standing (not reversed) attribution booked, if any."""

    async def fixed_fee_charged(self, case_id: str, round: int, provider_id: str) -> int:
        """The fixed fee the round's payments bore so far, reversed ones left out."""

    async def mark_reversed(self, booked_by: str, event_id: str) -> None:
        """Record that the booking of attribution `booked_by` was reversed by this event."""


class SettlementUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over settlement's tables; the only thing that commits."""

    @property
    def ledger(self) -> LedgerRepository:
        """The double-entry ledger."""

    @property
    def references(self) -> PaymentReferenceRepository:
        """Cases' payment references."""

    @property
    def payouts(self) -> PayoutRepository:
        """Payees, payout batches and their files."""

    @property
    def invoices(self) -> InvoiceRepository:
        """Fee invoices."""

    @property
    def billing(self) -> BillingRepository:
        """Billing profiles and their audit."""

    @property
    def fees(self) -> FeeBookingRepository:
        """Fee bookings per attributed payment."""

    @property
    def cases(self) -> SettledCaseRepository:
        """The cases settlement knows (from intake's events)."""

    @property
    def invoice_requests(self) -> InvoiceRequestRepository:
        """Invoices fees call for, and the billing identities they are issued with."""

    @property
    def receipts(self) -> ReceiptRepository:
        """Imported statements and their receipts."""

    @property
    def payment_links(self) -> PaymentLinkRepository:
        """Pay by link: links, announced payments, notifications acted on."""
