"""A settlement in memory with cases, references and a statement importer, for money in's tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from google.protobuf.message import Message

from recouvra.events.v1 import settlement_events_pb2 as events
from recouvra_shared.legal.ecb_rates import RateTable
from recouvra_shared.testing import PlatformTables
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry, camt053, camt054
from services.settlement.tests.unit.fakes import FakeSettlementUnitOfWork, Tables
from settlement.adapters.camt054 import read_bank_file
from settlement.domain.receipts import InvoiceTerm, SettledCase
from settlement.service_layer.reads import account_balance
from settlement.service_layer.statement_import import ImportReport, import_statement

# The ECB main refinancing rate was 2.15 % from 11 June 2025 (so on 1 January 2026): interest
# runs at 2.15 + 10 = 12.15 % a year. Fixed here so the worked examples do not move when the
# shipped table gains a later decision.
M = TypeVar("M", bound=Message)

RATES = RateTable(
    changes=((date(2025, 6, 11), Decimal("2.15")),),
    verified_through=date(2026, 12, 31),
    source="test",
)
CASE_A = "0b7c1f2a-0000-4000-8000-00000000000a"
CASE_B = "0b7c1f2a-0000-4000-8000-00000000000b"
REF_A = "RF18539007547034"
REF_B = "RF712348231"


def two_invoice_case(case_id: str = CASE_A, creditor: str = "cred-1") -> SettledCase:
    """1,000.00 EUR due 31 January 2026 and 500.00 EUR due 14 February 2026, a company debtor."""
    return SettledCase(
        case_id=case_id,
        creditor_id=creditor,
        debtor_is_business=True,
        currency="EUR",
        invoices=(
            InvoiceTerm(50_000, date(2026, 1, 15), date(2026, 2, 14)),
            InvoiceTerm(100_000, date(2026, 1, 1), date(2026, 1, 31)),
        ),
    )


@dataclass
class World:
    """Settlement's tables, and the importer wired on them."""

    tables: Tables = field(default_factory=Tables)
    platform: PlatformTables = field(default_factory=PlatformTables)

    def uow(self) -> FakeSettlementUnitOfWork:
        return FakeSettlementUnitOfWork(self.tables, self.platform)

    def knows(self, case: SettledCase, reference: str | None = None) -> None:
        self.tables.cases[case.case_id] = case
        if reference is not None:
            self.tables.references[case.case_id] = reference

    async def import_file(self, content: bytes) -> list[ImportReport]:
        return [
            await import_statement(statement, self.uow, CLIENT_MONEY_IBAN, rates=RATES)
            for statement in read_bank_file(content)
        ]

    async def import_entries(self, entries: list[Entry], **options: str) -> ImportReport:
        (report,) = await self.import_file(camt053(entries, **options))
        return report

    async def import_notification(self, entries: list[Entry], **options: str) -> ImportReport:
        (report,) = await self.import_file(camt054(entries, **options))
        return report

    async def balance(self, code: str, at: date = date(2026, 12, 31)) -> int:
        return (await account_balance(self.uow(), code, at)).amount

    def received(self) -> list[events.PaymentReceived]:
        return [
            unpacked(e.envelope.payload, events.PaymentReceived())
            for e in self.platform.outbox
            if e.topic == "settlement.payment-received.v1"
        ]

    def reversed(self) -> list[events.PaymentReversed]:
        return [
            unpacked(e.envelope.payload, events.PaymentReversed())
            for e in self.platform.outbox
            if e.topic == "settlement.payment-reversed.v1"
        ]


def unpacked(payload: Any, into: M) -> M:
    """An event's payload as its message."""
    assert payload.Unpack(into)
    return into
