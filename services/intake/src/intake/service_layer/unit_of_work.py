"""What intake's use cases need from storage: cases, their timelines, idempotency records, the
imported ECB rates, the outbox and one commit. The SQL implementation is
adapters/unit_of_work.py; the tests' in-memory one is tests/unit/fakes.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Protocol

from intake.domain.case_life import CaseLife
from intake.domain.debtors import Debtor
from intake.domain.listing import CaseFilter, Cursor
from intake.domain.model import Case, DeclaredPayment, TimelineEntry
from recouvra_shared.legal.ecb_rates import ImportedRates
from recouvra_shared.unit_of_work import UnitOfWorkProtocol


class CaseRepository(Protocol):
    """Cases with their invoice lines and declared payments."""

    async def claimed_invoices(
        self, creditor_id: str, debtor_key: str, numbers: Sequence[str]
    ) -> set[str]:
        """Which of these invoice numbers the creditor already claimed from this debtor."""

    async def claimed_pairs(
        self, creditor_id: str, pairs: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which (debtor key, invoice number) pairs the creditor already claimed."""

    async def claimed(self, invoices: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which (creditor, debtor key, invoice number) the creditors already claimed."""

    async def add(self, *cases: Case) -> None:
        """Insert cases and their invoice lines; ConcurrentClaim when another transaction
        claimed one of the invoices first."""

    async def get(
        self, case_id: str, creditor_id: str | None, *, lock: bool = False
    ) -> Case | None:
        """The case, if it exists and (when a creditor is given) belongs to that creditor;
        locked until the end of the unit of work when asked."""

    async def find(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[Case]:
        """Cases matching the filter, newest first, after the cursor (without payments)."""

    async def set_status(self, case_id: str, status: str, withdrawn_reason: str = "") -> None:
        """Change a case's status."""

    async def add_payment(self, case_id: str, payment: DeclaredPayment) -> None:
        """Record a payment the creditor declared."""

    async def mark_scored(self, case_id: str) -> None:
        """A submitted case has been scored (later states are left alone)."""

    async def debtor_of(self, case_id: str) -> Debtor | None:
        """The case's debtor, without the rest of the case; None when intake has no such case."""

    async def life_of(self, case_id: str, *, lock: bool = False) -> CaseLife | None:
        """Where a case stands in its life (status, round, holder), None when intake never made
        it; locked until the end of the unit of work when asked. Reads nothing else of it."""

    async def follow(self, case_id: str, life: CaseLife) -> None:
        """Record where the case now stands in its life: status, round and holder."""

    async def hold(self, case_ids: Sequence[str]) -> None:
        """Lock these cases until the end of the unit of work, all at once; `life_of` then
        answers for them without reading again."""


class Timelines(Protocol):
    """What happened to each case."""

    async def append(self, *entries: TimelineEntry) -> None:
        """Append entries to their cases' timelines (an already recorded event id is ignored)."""

    async def of_case(self, case_id: str) -> list[TimelineEntry]:
        """A case's timeline, oldest first."""


class BankReceipts(Protocol):
    """Payments from the bank, one per settlement receipt id, as the case's payments show them."""

    async def add(self, case_id: str, payment: DeclaredPayment) -> bool:
        """Record a bank payment once; False when its receipt was seen (or reversed) before."""

    async def reverse(
        self, case_id: str, receipt_id: str, amount_minor: int, reversed_on: date
    ) -> DeclaredPayment | None:
        """Take a receipt's payment off the case and return it; None when it was never counted
        (a reversal arriving first is kept, so that its receipt never counts)."""


class IdempotencyRecords(Protocol):
    """The first answer given under each (owner, idempotency key)."""

    async def remembered(self, owner: str, key: str) -> tuple[bytes, bytes | None] | None:
        """The request hash and the response first stored under this key."""

    async def remembered_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bytes, bytes | None]]:
        """`remembered` for many (owner, key) at once: those stored."""

    async def remember(
        self, owner: str, key: str, operation: str, request_hash: bytes, response: bytes
    ) -> None:
        """Store the first answer to a key; ConcurrentClaim when another transaction did first."""

    async def remember_many(self, answers: Sequence[tuple[str, str, str, bytes, bytes]]) -> None:
        """`remember` for many (owner, key, operation, request hash, response)."""


class RateRepository(Protocol):
    """The ECB rate changes operators imported on top of the shipped table."""

    async def imported(self) -> ImportedRates:
        """Every imported change, and the latest date an import verified the table through."""

    async def lock(self) -> None:
        """Hold off other imports until the end of the unit of work."""

    async def record(
        self,
        added: tuple[tuple[date, Decimal], ...],
        *,
        file_name: str,
        last_observation: date,
        verified_through: date,
    ) -> None:
        """Store the changes an import added, and the import itself."""


class IntakeUnitOfWork(UnitOfWorkProtocol, Protocol):
    """One transaction over intake's tables; the only thing that commits."""

    @property
    def cases(self) -> CaseRepository:
        """Cases, invoice lines and declared payments."""

    def debtor_key(self, identity: str) -> str:
        """The debtor's pseudonym on the bus, from its identity (`Debtor.key`)."""
        ...

    @property
    def timelines(self) -> Timelines:
        """Case timelines."""

    @property
    def receipts(self) -> BankReceipts:
        """Payments from the bank, by settlement's receipt id."""

    @property
    def idempotency(self) -> IdempotencyRecords:
        """First answers of the mutating RPCs."""

    @property
    def rates(self) -> RateRepository:
        """Imported ECB rates."""
