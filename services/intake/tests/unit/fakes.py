"""In-memory fakes of intake's storage, with the behaviour of the SQL adapters: a unit of work
keeps its changes to itself until it commits, and a commit that loses a race to another one
fails with ConcurrentClaim, as PostgreSQL's unique indexes make the real one fail."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from types import TracebackType
from typing import Self

from intake.domain.case_life import SCORED, SUBMITTED, CaseLife
from intake.domain.debtors import Debtor, pseudonymous_key
from intake.domain.errors import ConcurrentClaim
from intake.domain.listing import CaseFilter, Cursor
from intake.domain.model import Case, DeclaredPayment, TimelineEntry
from recouvra_shared.legal.ecb_rates import ImportedRates
from recouvra_shared.unit_of_work import OutgoingEvent

TODAY = date(2026, 11, 23)
FAKE_DEBTOR_KEY_SECRET = b"test-debtor-key-secret"


@dataclass
class IntakeState:
    """Everything intake stores."""

    cases: dict[str, Case] = field(default_factory=dict)
    timeline: list[TimelineEntry] = field(default_factory=list)
    # (owner, key) -> (operation, request hash, response)
    idempotency: dict[tuple[str, str], tuple[str, bytes, bytes]] = field(default_factory=dict)
    outbox: list[OutgoingEvent] = field(default_factory=list)
    rate_changes: dict[date, Decimal] = field(default_factory=dict)
    # (file name, last observation, verified through, changes added)
    rate_imports: list[tuple[str, date, date, int]] = field(default_factory=list)
    # receipt id -> (case id, whether the bank reversed it)
    receipts: dict[str, tuple[str, bool]] = field(default_factory=dict)

    def claimed(self) -> set[tuple[str, str, str]]:
        """Every (creditor, debtor key, invoice number) claimed so far."""
        return {
            (case.creditor_id, case.debtor.key, line.invoice_number)
            for case in self.cases.values()
            for line in case.invoices
        }


class FakeCases:
    """Cases in a dictionary."""

    def __init__(self, state: IntakeState) -> None:
        self.state = state
        self.held: list[str] = []  # what `hold` was asked to lock, in order

    async def claimed_invoices(
        self, creditor_id: str, debtor_key: str, numbers: Sequence[str]
    ) -> set[str]:
        claimed = self.state.claimed()
        return {n for n in numbers if (creditor_id, debtor_key, n) in claimed}

    async def claimed_pairs(
        self, creditor_id: str, pairs: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        claimed = self.state.claimed()
        return {(key, number) for key, number in pairs if (creditor_id, key, number) in claimed}

    async def claimed(self, invoices: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        return set(invoices) & self.state.claimed()

    async def add(self, *cases: Case) -> None:
        for case in cases:
            submitted_at = case.submitted_at or datetime.now(UTC)
            self.state.cases[case.case_id] = replace(case, submitted_at=submitted_at)

    async def debtor_of(self, case_id: str) -> Debtor | None:
        case = self.state.cases.get(case_id)
        return None if case is None else case.debtor

    async def get(
        self, case_id: str, creditor_id: str | None, *, lock: bool = False
    ) -> Case | None:
        case = self.state.cases.get(case_id)
        if case is None or (creditor_id is not None and case.creditor_id != creditor_id):
            return None
        return case

    async def find(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[Case]:
        found = [
            replace(case, payments=())
            for case in self.state.cases.values()
            if _matches(case, where) and _before(case, after)
        ]
        found.sort(key=lambda c: (c.submitted_at, c.case_id), reverse=True)
        return found[:limit]

    async def set_status(self, case_id: str, status: str, withdrawn_reason: str = "") -> None:
        case = self.state.cases[case_id]
        self.state.cases[case_id] = replace(case, status=status, withdrawn_reason=withdrawn_reason)

    async def add_payment(self, case_id: str, payment: DeclaredPayment) -> None:
        case = self.state.cases[case_id]
        self.state.cases[case_id] = replace(case, payments=(*case.payments, payment))

    async def mark_scored(self, case_id: str) -> None:
        case = self.state.cases.get(case_id)
        if case is not None and case.status == SUBMITTED:
            self.state.cases[case_id] = replace(case, status=SCORED)

    async def life_of(self, case_id: str, *, lock: bool = False) -> CaseLife | None:
        case = self.state.cases.get(case_id)
        return None if case is None else case.life

    async def hold(self, case_ids: Sequence[str]) -> None:
        self.held.extend(case_ids)

    async def follow(self, case_id: str, life: CaseLife) -> None:
        case = self.state.cases[case_id]
        self.state.cases[case_id] = replace(
            case, status=life.status, round=life.round, holder=life.holder
        )


def _matches(case: Case, where: CaseFilter) -> bool:
    submitted = case.submitted_at.date() if case.submitted_at else None
    amount_bounded = where.min_amount_minor is not None or where.max_amount_minor is not None
    return all(
        [
            where.creditor_id is None or case.creditor_id == where.creditor_id,
            not where.statuses or case.status in where.statuses,
            not where.debtor_siren or case.debtor.siren == where.debtor_siren,
            where.debtor_siren
            or not where.debtor_name
            or where.debtor_name.casefold() in case.debtor.name.casefold(),
            where.submitted_from is None
            or (submitted is not None and submitted >= where.submitted_from),
            where.submitted_before is None
            or (submitted is not None and submitted <= where.submitted_before),
            not amount_bounded or case.currency == where.currency,
            where.min_amount_minor is None or case.principal_minor >= where.min_amount_minor,
            where.max_amount_minor is None or case.principal_minor <= where.max_amount_minor,
        ]
    )


def _before(case: Case, after: Cursor | None) -> bool:
    if after is None or case.submitted_at is None:
        return True
    return (case.submitted_at, case.case_id) < (after.created_at, after.case_id)


class FakeTimelines:
    """Timeline entries in a list."""

    def __init__(self, state: IntakeState) -> None:
        self.state = state

    async def append(self, *entries: TimelineEntry) -> None:
        recorded = {e.event_id for e in self.state.timeline if e.event_id}
        for entry in entries:
            if entry.event_id and entry.event_id in recorded:
                continue
            self.state.timeline.append(
                replace(entry, occurred_at=entry.occurred_at or datetime.now(UTC))
            )
            recorded.add(entry.event_id or "")

    async def of_case(self, case_id: str) -> list[TimelineEntry]:
        return [e for e in self.state.timeline if e.case_id == case_id]


class FakeBankReceipts:
    """Bank payments on the fake cases, unique by receipt id like the SQL table."""

    def __init__(self, state: IntakeState) -> None:
        self.state = state

    async def add(self, case_id: str, payment: DeclaredPayment) -> bool:
        if payment.receipt_id in self.state.receipts:
            return False
        self.state.receipts[payment.receipt_id] = (case_id, False)
        case = self.state.cases[case_id]
        self.state.cases[case_id] = replace(case, payments=(*case.payments, payment))
        return True

    async def reverse(
        self, case_id: str, receipt_id: str, amount_minor: int, reversed_on: date
    ) -> DeclaredPayment | None:
        known = self.state.receipts.get(receipt_id)
        self.state.receipts[receipt_id] = (case_id, True)
        if known is None or known[1]:
            return None
        case = self.state.cases[case_id]
        [removed] = [p for p in case.payments if p.receipt_id == receipt_id]
        kept = tuple(p for p in case.payments if p.receipt_id != receipt_id)
        self.state.cases[case_id] = replace(case, payments=kept)
        return removed


class FakeIdempotencyRecords:
    """First answers in a dictionary."""

    def __init__(self, state: IntakeState) -> None:
        self.state = state

    async def remembered(self, owner: str, key: str) -> tuple[bytes, bytes | None] | None:
        seen = self.state.idempotency.get((owner, key))
        return None if seen is None else (seen[1], seen[2])

    async def remembered_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bytes, bytes | None]]:
        return {k: (s[1], s[2]) for k in keys if (s := self.state.idempotency.get(k)) is not None}

    async def remember(
        self, owner: str, key: str, operation: str, request_hash: bytes, response: bytes
    ) -> None:
        self.state.idempotency[(owner, key)] = (operation, request_hash, response)

    async def remember_many(self, answers: Sequence[tuple[str, str, str, bytes, bytes]]) -> None:
        for owner, key, operation, request_hash, response in answers:
            await self.remember(owner, key, operation, request_hash, response)


class FakeRates:
    """Imported ECB rate changes in a dictionary."""

    def __init__(self, state: IntakeState) -> None:
        self.state = state

    async def imported(self) -> ImportedRates:
        verified = max((i[2] for i in self.state.rate_imports), default=None)
        return ImportedRates(tuple(sorted(self.state.rate_changes.items())), verified)

    async def lock(self) -> None:
        return None

    async def record(
        self,
        added: tuple[tuple[date, Decimal], ...],
        *,
        file_name: str,
        last_observation: date,
        verified_through: date,
    ) -> None:
        self.state.rate_changes.update(added)
        self.state.rate_imports.append((file_name, last_observation, verified_through, len(added)))


class FakeUnitOfWork:
    """A transaction on a copy of the storage, made the storage on commit."""

    cases: FakeCases
    timelines: FakeTimelines
    receipts: FakeBankReceipts
    idempotency: FakeIdempotencyRecords
    rates: FakeRates

    def __init__(self, storage: FakeIntakeStorage) -> None:
        self.storage = storage
        self.committed = False

    async def __aenter__(self) -> Self:
        self.started_from = copy.deepcopy(self.storage.state)
        self.working = copy.deepcopy(self.storage.state)
        self.cases = FakeCases(self.working)
        self.timelines = FakeTimelines(self.working)
        self.receipts = FakeBankReceipts(self.working)
        self.idempotency = FakeIdempotencyRecords(self.working)
        self.rates = FakeRates(self.working)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.storage.units_closed += 1

    def debtor_key(self, identity: str) -> str:
        return pseudonymous_key(FAKE_DEBTOR_KEY_SECRET, identity)

    async def publish(self, *events: OutgoingEvent) -> None:
        self.working.outbox.extend(events)

    async def commit(self) -> None:
        if self.storage.before_next_commit is not None:
            other, self.storage.before_next_commit = self.storage.before_next_commit, None
            await other()
        committed = self.storage.state
        new_keys = set(self.working.idempotency) - set(self.started_from.idempotency)
        new_claims = self.working.claimed() - self.started_from.claimed()
        if new_keys & set(committed.idempotency) or new_claims & committed.claimed():
            raise ConcurrentClaim("another transaction committed the same key or invoice")
        self.storage.state = self.working
        self.committed = True


class FakeIntakeStorage:
    """Intake's database in memory; `unit_of_work` is the factory the use cases take."""

    def __init__(self) -> None:
        self.state = IntakeState()
        self.units_closed = 0
        # Another transaction that commits just before the next one does (a race).
        self.before_next_commit: Callable[[], Awaitable[None]] | None = None

    def unit_of_work(self) -> FakeUnitOfWork:
        """A new unit of work on this storage."""
        return FakeUnitOfWork(self)

    @property
    def cases(self) -> dict[str, Case]:
        """The committed cases."""
        return self.state.cases

    @property
    def outbox(self) -> list[OutgoingEvent]:
        """The committed events."""
        return self.state.outbox

    def timeline_of(self, case_id: str) -> list[TimelineEntry]:
        """A case's committed timeline."""
        return [e for e in self.state.timeline if e.case_id == case_id]
