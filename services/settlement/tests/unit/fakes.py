"""In-memory stand-ins for settlement's unit of work and ledger, wired like bootstrap."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from recouvra_shared.testing import FakeUnitOfWork, PlatformTables
from services.settlement.tests.unit.invoice_fakes import FakeInvoiceRequests, InvoiceRequestTables
from services.settlement.tests.unit.payment_link_fakes import FakePaymentLinks, PaymentLinkTables
from services.settlement.tests.unit.payout_fakes import FakePayouts, PayoutTables
from settlement.domain.accounts import Account
from settlement.domain.bank_statement import from_notification
from settlement.domain.billing import BillingChange, CreditorBilling, ProviderBilling
from settlement.domain.direct_payments import DirectPayment
from settlement.domain.documents import Reader, may_read
from settlement.domain.fee_postings import FeeBooking
from settlement.domain.invariants import (
    GENESIS,
    LedgerRows,
    StoredAccount,
    entry_digest,
    stored_rows_of,
)
from settlement.domain.invoices import Invoice, InvoiceKind
from settlement.domain.ledger import Balance, JournalEntry, balances
from settlement.domain.receipts import Receipt, ReceiptStatus, SettledCase


@dataclass
class Tables:
    """What settlement's database holds."""

    accounts: dict[str, Account] = field(default_factory=dict)
    entries: list[JournalEntry] = field(default_factory=list)
    references: dict[str, str] = field(default_factory=dict)
    payouts: PayoutTables = field(default_factory=PayoutTables)
    invoices: dict[str, tuple[Invoice, bytes | None]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    providers: dict[str, ProviderBilling] = field(default_factory=dict)
    creditors: dict[str, CreditorBilling] = field(default_factory=dict)
    billing_changes: list[BillingChange] = field(default_factory=list)
    fee_bookings: dict[str, FeeBooking] = field(default_factory=dict)
    cases: dict[str, SettledCase] = field(default_factory=dict)
    statements: set[tuple[str, str]] = field(default_factory=set)
    receipts: dict[str, Receipt] = field(default_factory=dict)  # by receipt id, in order kept
    direct_payments: dict[str, DirectPayment] = field(default_factory=dict)  # by payment id
    twins: dict[str, tuple[str, str]] = field(default_factory=dict)  # line -> (doc, receipt)
    payment_links: PaymentLinkTables = field(default_factory=PaymentLinkTables)
    invoice_requests: InvoiceRequestTables = field(default_factory=InvoiceRequestTables)


class FakeLedger:
    """The ledger tables, in memory: numbered in order, one entry per fact, never changed."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def open_accounts(self, accounts: Collection[Account]) -> None:
        for account in accounts:
            self.tables.accounts.setdefault(account.code, account)

    async def add(self, entry: JournalEntry) -> JournalEntry | None:
        if any(e.fact_key == entry.fact_key for e in self.tables.entries):
            return None
        # The database's guards, as the real tables enforce them.
        assert all(line.account in self.tables.accounts for line in entry.lines)
        assert sum(x.debit for x in entry.lines) == sum(x.credit for x in entry.lines)
        assert entry.reverses is None or not any(
            e.reverses == entry.reverses for e in self.tables.entries
        )
        entry_no = len(self.tables.entries) + 1
        previous = self.tables.entries[-1].digest if self.tables.entries else GENESIS
        assert previous is not None
        digest = entry_digest(previous, *stored_rows_of(entry, entry_no))
        posted = replace(entry, entry_no=entry_no, recorded_at=datetime.now(UTC), digest=digest)
        self.tables.entries.append(posted)
        return posted

    async def entry(self, entry_id: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.entry_id == entry_id), None)

    async def entry_for_fact(self, fact_key: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.fact_key == fact_key), None)

    async def reversal_of(self, entry_id: str) -> JournalEntry | None:
        return next((e for e in self.tables.entries if e.reverses == entry_id), None)

    async def entries_between(self, first: date, last: date) -> list[JournalEntry]:
        found = [e for e in self.tables.entries if first <= e.booked_on <= last]
        return sorted(found, key=lambda e: (e.booked_on, e.entry_no or 0))

    async def balances(
        self, at: date, *, account: str | None = None, case_id: str | None = None
    ) -> list[Balance]:
        lines = [
            line
            for entry in self.tables.entries
            if entry.booked_on <= at
            for line in entry.lines
            if (account is None or line.account == account)
            and (case_id is None or line.case_id == case_id)
        ]
        return balances(lines)

    async def rows(self) -> LedgerRows:
        return LedgerRows(
            accounts=[
                StoredAccount(
                    a.code,
                    a.account_class.number,
                    a.type.value,
                    a.account_class.party.value if a.account_class.party else None,
                    a.party_id,
                )
                for a in self.tables.accounts.values()
            ],
            entries=[
                replace(stored_rows_of(e, e.entry_no or 0)[0], digest=e.digest or b"")
                for e in self.tables.entries
            ],
            lines=[line for e in self.tables.entries for line in stored_rows_of(e, 0)[1]],
        )


class FakeReferences:
    """The payment_references table, in memory: one per case, none shared."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def of_case(self, case_id: str) -> str | None:
        return self.tables.references.get(case_id)

    async def add(self, case_id: str, reference: str) -> bool:
        if case_id in self.tables.references or reference in self.tables.references.values():
            return False
        self.tables.references[case_id] = reference
        return True

    async def case_of(self, reference: str) -> str | None:
        return next((c for c, r in self.tables.references.items() if r == reference), None)


class FakeSettledCases:
    """The settled_cases table, in memory."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def get(self, case_id: str) -> SettledCase | None:
        return self.tables.cases.get(case_id)

    async def put(self, case: SettledCase) -> None:
        self.tables.cases[case.case_id] = case

    async def open_cases(self) -> list[SettledCase]:
        return sorted(
            (c for c in self.tables.cases.values() if not c.withdrawn), key=lambda c: c.case_id
        )


class FakeReceipts:
    """The bank_statements and receipts tables, in memory: one receipt per bank line."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def statement_imported(self, statement_id: str, account_iban: str) -> bool:
        return (account_iban, statement_id) in self.tables.statements

    async def record_statement(
        self, statement_id: str, account_iban: str, message_type: str, lines: int
    ) -> None:
        self.tables.statements.add((account_iban, statement_id))

    async def add(self, receipt: Receipt) -> bool:
        if any(r.line_key == receipt.line_key for r in self.tables.receipts.values()):
            return False
        split = receipt.allocation
        assert split is None or split.total == receipt.amount_minor  # allocation_adds_up
        self.tables.receipts[receipt.receipt_id] = receipt
        return True

    async def update(self, receipt: Receipt) -> None:
        assert receipt.receipt_id in self.tables.receipts
        self.tables.receipts[receipt.receipt_id] = receipt

    async def get(self, receipt_id: str) -> Receipt | None:
        return self.tables.receipts.get(receipt_id)

    async def of_line(self, line_key: str) -> Receipt | None:
        return next((r for r in self.tables.receipts.values() if r.line_key == line_key), None)

    async def booked_lines(self, line_keys: Collection[str]) -> dict[str, str]:
        wanted = set(line_keys)
        own = {r.line_key: r.statement_id for r in self.tables.receipts.values()}
        paired = {
            key: self.tables.receipts[receipt_id].statement_id
            for key, (_, receipt_id) in self.tables.twins.items()
        }
        return {k: v for k, v in [*own.items(), *paired.items()] if k in wanted}

    async def twin_candidates(
        self,
        amount_minor: int,
        end_to_end_id: str | None,
        reference: str | None,
        *,
        from_notifications: bool,
    ) -> list[Receipt]:
        paired = {receipt_id for _, receipt_id in self.tables.twins.values()}
        return sorted(
            (
                r
                for r in self.tables.receipts.values()
                if r.amount_minor == amount_minor
                and r.receipt_id not in paired
                and from_notification(r.statement_id) == from_notifications
                and (
                    (end_to_end_id is not None and r.end_to_end_id == end_to_end_id)
                    or (reference is not None and r.reference == reference)
                )
            ),
            key=lambda r: (r.received_on, r.line_key),
        )

    async def any_unpaired(self, *, from_notifications: bool) -> bool:
        paired = {receipt_id for _, receipt_id in self.tables.twins.values()}
        return any(
            from_notification(r.statement_id) == from_notifications and r.receipt_id not in paired
            for r in self.tables.receipts.values()
        )

    async def pair(self, line_key: str, statement_id: str, receipt_id: str) -> bool:
        paired = {receipt_id for _, receipt_id in self.tables.twins.values()}
        if line_key in self.tables.twins or receipt_id in paired:
            return False
        self.tables.twins[line_key] = (statement_id, receipt_id)
        return True

    async def allocated_to(self, case_id: str) -> list[tuple[date, int]]:
        return sorted(
            (r.received_on, r.amount_minor)
            for r in self.tables.receipts.values()
            if r.case_id == case_id and r.status is ReceiptStatus.ALLOCATED
        )

    async def add_direct_payment(self, payment: DirectPayment) -> bool:
        if payment.payment_id in self.tables.direct_payments:
            return False
        assert payment.amount_minor > 0  # direct_payment_positive
        self.tables.direct_payments[payment.payment_id] = payment
        return True

    async def direct_payments_to(self, case_id: str) -> list[DirectPayment]:
        return sorted(
            (p for p in self.tables.direct_payments.values() if p.case_id == case_id),
            key=lambda p: (p.paid_on, p.payment_id),
        )

    async def reversible(
        self, amount_minor: int, end_to_end_id: str | None, reference: str | None
    ) -> Receipt | None:
        reversible = (ReceiptStatus.ALLOCATED, ReceiptStatus.SUSPENSE, ReceiptStatus.REFUND_DUE)
        return next(
            (
                r
                for r in self.tables.receipts.values()
                if r.amount_minor == amount_minor
                and r.status in reversible
                and (
                    (end_to_end_id is not None and r.end_to_end_id == end_to_end_id)
                    or (reference is not None and r.reference == reference)
                )
            ),
            None,
        )

    async def in_suspense(self) -> list[Receipt]:
        return [r for r in self.tables.receipts.values() if r.status is ReceiptStatus.SUSPENSE]


class FakeInvoices:
    """The invoices and invoice_counters tables, in memory."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def for_fact(self, fact_key: str, kind: InvoiceKind) -> Invoice | None:
        return next(
            (
                invoice
                for invoice, _ in self.tables.invoices.values()
                if (invoice.to_issue.fact_key, invoice.to_issue.kind) == (fact_key, kind)
            ),
            None,
        )

    async def next_sequence(self, series: str) -> int:
        self.tables.counters[series] = self.tables.counters.get(series, 0) + 1
        return self.tables.counters[series]

    async def add(self, invoice: Invoice) -> bool:
        if await self.for_fact(invoice.to_issue.fact_key, invoice.to_issue.kind):
            return False
        assert invoice.invoice_id not in self.tables.invoices
        assert all(
            (i.series, i.sequence) != (invoice.series, invoice.sequence)
            for i, _ in self.tables.invoices.values()
        )
        self.tables.invoices[invoice.invoice_id] = (invoice, None)
        return True

    async def store_pdf(self, invoice_id: str, pdf: bytes) -> None:
        invoice, made = self.tables.invoices[invoice_id]
        if made is None:
            self.tables.invoices[invoice_id] = (invoice, pdf)

    async def pdf_of(self, invoice_id: str) -> bytes | None:
        return self.tables.invoices[invoice_id][1]

    async def readable_by(self, reader: Reader) -> list[Invoice]:
        found = [i for i, _ in self.tables.invoices.values() if may_read(reader, i)]
        return sorted(found, key=lambda i: (i.to_issue.issued_on, i.sequence), reverse=True)

    async def with_pdf(self, invoice_id: str) -> tuple[Invoice, bytes | None] | None:
        return self.tables.invoices.get(invoice_id)


class FakeBilling:
    """The billing profile tables and their audit, in memory."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def provider(self, provider_id: str) -> ProviderBilling | None:
        return self.tables.providers.get(provider_id)

    async def creditor(self, creditor_id: str) -> CreditorBilling | None:
        return self.tables.creditors.get(creditor_id)

    async def save_provider(self, profile: ProviderBilling, change: BillingChange) -> None:
        self.tables.providers[profile.provider_id] = profile
        self.tables.billing_changes.append(change)

    async def save_creditor(self, profile: CreditorBilling, change: BillingChange) -> None:
        self.tables.creditors[profile.creditor_id] = profile
        self.tables.billing_changes.append(change)

    async def changes(self, subject_id: str | None = None) -> list[BillingChange]:
        return [c for c in self.tables.billing_changes if subject_id in (None, c.subject_id)]


class FakeFeeBookings:
    """The fee_bookings table, in memory, by attribution event: one standing per payment."""

    def __init__(self, tables: Tables) -> None:
        self.tables = tables

    async def add(self, booking: FeeBooking) -> None:
        assert booking.attribution.event_id not in self.tables.fee_bookings
        assert await self.of_payment(booking.attribution.payment_id) is None
        self.tables.fee_bookings[booking.attribution.event_id] = booking

    async def of_event(self, event_id: str) -> FeeBooking | None:
        return self.tables.fee_bookings.get(event_id)

    async def of_payment(self, payment_id: str) -> FeeBooking | None:
        return next(
            (
                b
                for b in self.tables.fee_bookings.values()
                if b.attribution.payment_id == payment_id and b.reversed_by is None
            ),
            None,
        )

    async def fixed_fee_charged(self, case_id: str, round: int, provider_id: str) -> int:
        return sum(
            b.figures.fixed_part
            for b in self.tables.fee_bookings.values()
            if b.reversed_by is None
            and (b.attribution.case_id, b.attribution.round, b.attribution.provider_id)
            == (case_id, round, provider_id)
        )

    async def mark_reversed(self, booked_by: str, event_id: str) -> None:
        booking = self.tables.fee_bookings[booked_by]
        self.tables.fee_bookings[booked_by] = replace(booking, reversed_by=event_id)


class FakeSettlementUnitOfWork(FakeUnitOfWork):
    """Settlement's unit of work in memory: nothing is kept unless committed."""

    def __init__(
        self, tables: Tables | None = None, platform: PlatformTables | None = None
    ) -> None:
        super().__init__(platform)
        self.kept = tables if tables is not None else Tables()
        self.working = copy.deepcopy(self.kept)
        self.ledger = FakeLedger(self.working)
        self.references = FakeReferences(self.working)
        self.payouts = FakePayouts(self.working)
        self.invoices = FakeInvoices(self.working)
        self.billing = FakeBilling(self.working)
        self.fees = FakeFeeBookings(self.working)
        self.cases = FakeSettledCases(self.working)
        self.receipts = FakeReceipts(self.working)
        self.payment_links = FakePaymentLinks(self.working)
        self.invoice_requests = FakeInvoiceRequests(self.working)

    async def __aenter__(self) -> FakeSettlementUnitOfWork:
        await super().__aenter__()
        self.discard_changes()
        return self

    def commit_changes(self) -> None:
        self.kept.accounts = dict(self.working.accounts)
        self.kept.entries = list(self.working.entries)
        self.kept.references = dict(self.working.references)
        self.kept.payouts = copy.deepcopy(self.working.payouts)
        self.kept.invoices = dict(self.working.invoices)
        self.kept.counters = dict(self.working.counters)
        self.kept.providers = dict(self.working.providers)
        self.kept.creditors = dict(self.working.creditors)
        self.kept.billing_changes = list(self.working.billing_changes)
        self.kept.fee_bookings = dict(self.working.fee_bookings)
        self.kept.cases = dict(self.working.cases)
        self.kept.statements = set(self.working.statements)
        self.kept.receipts = dict(self.working.receipts)
        self.kept.direct_payments = dict(self.working.direct_payments)
        self.kept.payment_links = copy.deepcopy(self.working.payment_links)
        self.kept.invoice_requests = copy.deepcopy(self.working.invoice_requests)

    def discard_changes(self) -> None:
        self.working.accounts = dict(self.kept.accounts)
        self.working.entries = list(self.kept.entries)
        self.working.references = dict(self.kept.references)
        self.working.payouts = copy.deepcopy(self.kept.payouts)
        self.working.invoices = dict(self.kept.invoices)
        self.working.counters = dict(self.kept.counters)
        self.working.providers = dict(self.kept.providers)
        self.working.creditors = dict(self.kept.creditors)
        self.working.billing_changes = list(self.kept.billing_changes)
        self.working.fee_bookings = dict(self.kept.fee_bookings)
        self.working.cases = dict(self.kept.cases)
        self.working.statements = set(self.kept.statements)
        self.working.receipts = dict(self.kept.receipts)
        self.working.direct_payments = dict(self.kept.direct_payments)
        self.working.payment_links = copy.deepcopy(self.kept.payment_links)
        self.working.invoice_requests = copy.deepcopy(self.kept.invoice_requests)
