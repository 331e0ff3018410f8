"""Intake's use cases: plain functions of (command, unit of work). Handlers never commit; the
caller's unit of work does, through `idempotent` or `commit`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date
from typing import TypeVar

from google.protobuf.message import Message

from intake.adapters.repository import (
    CaseFilter,
    CaseRepository,
    Cursor,
    IdempotencyStore,
    TimelineRow,
)
from intake.domain.csv_import import CsvCase
from intake.domain.errors import (
    CaseNotFound,
    CaseStateConflict,
    DuplicateInvoice,
    IdempotencyConflict,
    InvalidField,
    InvalidRequest,
    Violation,
)
from intake.domain.model import (
    CLOSED_STATUSES,
    PAID_DIRECTLY,
    WITHDRAWN,
    Case,
    SubmitCase,
    declared_payment,
    new_case,
    withdrawal_reason,
)
from intake.domain.money import format_amount
from intake.domain.regions import debtor_region
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import OutgoingEvent, UnitOfWork, utcnow
from recouvra_shared.events import new_event

SERVICE = "intake"
CASE_SUBMITTED = ("case-submitted", 1)
CASE_WITHDRAWN = ("case-withdrawn", 1)
PAYMENT_DECLARED = ("payment-declared", 1)
CASE_SCORED_TOPIC = ("scoring", "case-scored", 1)
MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50


def fingerprint(operation: str, request: bytes) -> bytes:
    """What an idempotency key is bound to: the operation and the request's content."""
    return hashlib.sha256(operation.encode() + b"\0" + request).digest()


async def idempotent(
    uow: UnitOfWork,
    creditor_id: str,
    key: str,
    operation: str,
    request_fingerprint: bytes,
    action: Callable[[], Awaitable[bytes]],
) -> tuple[bytes, bool]:
    """Run an action once per idempotency key and commit; (response, replayed)."""
    store = IdempotencyStore(uow.session)
    if key:
        seen = await store.remembered(creditor_id, key)
        if seen is not None:
            if seen[0] != request_fingerprint or seen[1] is None:
                raise IdempotencyConflict(
                    "was already used for a different request; use a new key for new content"
                )
            return seen[1], True
    response = await action()
    if key:
        await store.remember(creditor_id, key, operation, request_fingerprint, response)
    await uow.commit()
    return response, False


def _event(event: tuple[str, int], case: Case, payload: Message) -> OutgoingEvent:
    event_type, version = event
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id=case.case_id,
        tenant_id=case.creditor_id,
        payload=payload,
    )


def case_submitted(case: Case) -> OutgoingEvent:
    """The case-submitted event of a new case."""
    first = case.first_invoice
    payload = CaseSubmitted(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        debtor_name=case.debtor.name,
        debtor_is_business=case.debtor.is_company,
        invoice_number=first.invoice_number,
        amount=Money(currency=case.currency, minor_units=case.principal_minor),
        issue_date=min(i.issue_date for i in case.invoices).isoformat(),
        due_date=first.due_date.isoformat(),
        disputed=case.disputed,
        invoice_count=len(case.invoices),
        debtor_siren=case.debtor.siren,
        source=case.source,
        debtor_region=debtor_region(case.debtor.country_code, case.debtor.postal_code),
    )
    return _event(CASE_SUBMITTED, case, payload)


async def _record(repo: CaseRepository, case: Case, event: OutgoingEvent, summary: str) -> None:
    envelope = event.envelope
    await repo.record(case.case_id, SERVICE, envelope.event_type, summary, envelope.event_id)


async def submit_case(command: SubmitCase, uow: UnitOfWork, today: date) -> Case:
    """Validate and record a case with its case-submitted event (not committed)."""
    case = replace(new_case(command, today), submitted_at=utcnow())
    repo = CaseRepository(uow.session)
    numbers = [i.invoice_number for i in case.invoices]
    claimed = await repo.claimed_invoices(case.creditor_id, case.debtor.key, numbers)
    if claimed:
        raise DuplicateInvoice(
            [
                Violation(
                    f"invoices[{index}].invoice_number",
                    f"{number} was already submitted for this debtor",
                )
                for index, number in enumerate(numbers)
                if number in claimed
            ]
        )
    await repo.add(case)
    event = case_submitted(case)
    await uow.publish(event)
    total = format_amount(case.principal_minor, case.currency)
    await _record(
        repo,
        case,
        event,
        f"case submitted ({case.source}): {len(case.invoices)} invoice(s), "
        f"{total} {case.currency} owed by {case.debtor.name}",
    )
    return case


async def get_case(case_id: str, creditor_id: str | None, uow: UnitOfWork) -> Case:
    """One case; CaseNotFound when missing or not the creditor's."""
    case = None
    if _is_uuid(case_id):
        case = await CaseRepository(uow.session).get(case_id, creditor_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def list_cases(
    where: CaseFilter, page_token: str, page_size: int, uow: UnitOfWork
) -> tuple[list[Case], str]:
    """A page of cases, newest first, and the token of the next page ('' on the last)."""
    if page_size < 0 or page_size > MAX_PAGE_SIZE:
        raise InvalidField("page_size", f"must be between 1 and {MAX_PAGE_SIZE}")
    size = page_size or DEFAULT_PAGE_SIZE
    after = None
    if page_token:
        try:
            after = Cursor.decode(page_token)
        except ValueError:
            raise InvalidField("page_token", "is not a token from a previous page") from None
    found = await CaseRepository(uow.session).find(where, after, size + 1)
    page = found[:size]
    last = page[-1] if page else None
    if len(found) > size and last is not None and last.submitted_at is not None:
        return page, Cursor(last.submitted_at, last.case_id).encode()
    return page, ""


async def case_timeline(
    case_id: str, creditor_id: str | None, uow: UnitOfWork
) -> list[TimelineRow]:
    """What happened to a case, oldest first."""
    case = await get_case(case_id, creditor_id, uow)
    return await CaseRepository(uow.session).timeline(case.case_id)


async def _open_case(case_id: str, creditor_id: str | None, uow: UnitOfWork) -> Case:
    case = None
    if _is_uuid(case_id):
        case = await CaseRepository(uow.session).get(case_id, creditor_id, lock=True)
    if case is None:
        raise CaseNotFound(case_id)
    if case.status in CLOSED_STATUSES:
        raise CaseStateConflict(f"case_id: the case is {case.status.replace('_', ' ')}")
    return case


async def withdraw_case(
    case_id: str, creditor_id: str | None, reason: str, uow: UnitOfWork
) -> Case:
    """Withdraw an open case and announce it (not committed)."""
    text = withdrawal_reason(reason)
    case = await _open_case(case_id, creditor_id, uow)
    repo = CaseRepository(uow.session)
    await repo.set_status(case.case_id, WITHDRAWN, text)
    event = _event(CASE_WITHDRAWN, case, CaseWithdrawn(case_id=case.case_id, reason=text))
    await uow.publish(event)
    await _record(repo, case, event, f"case withdrawn by the creditor: {text}")
    return replace(case, status=WITHDRAWN, withdrawn_reason=text)


async def declare_payment(
    case_id: str,
    creditor_id: str | None,
    amount: str,
    currency: str,
    paid_on: str,
    settles_in_full: bool,
    uow: UnitOfWork,
    today: date,
) -> Case:
    """Record a direct payment the creditor declares and announce it (not committed)."""
    case = await _open_case(case_id, creditor_id, uow)
    payment = declared_payment(case, amount, currency, paid_on, settles_in_full, today)
    repo = CaseRepository(uow.session)
    await repo.add_payment(case.case_id, payment)
    status = PAID_DIRECTLY if settles_in_full else case.status
    if settles_in_full:
        await repo.set_status(case.case_id, PAID_DIRECTLY)
    event = _event(
        PAYMENT_DECLARED,
        case,
        PaymentDeclared(
            case_id=case.case_id,
            amount=Money(currency=case.currency, minor_units=payment.amount_minor),
            paid_on=payment.paid_on.isoformat(),
            settles_in_full=settles_in_full,
        ),
    )
    await uow.publish(event)
    paid = format_amount(payment.amount_minor, case.currency)
    await _record(
        repo,
        case,
        event,
        f"the creditor declared a direct payment of {paid} {case.currency} on {payment.paid_on}"
        + (", settling the case in full" if settles_in_full else ""),
    )
    return replace(case, status=status, payments=(*case.payments, payment))


@dataclass(frozen=True)
class RowOutcome:
    """What became of one imported row: a case, or the rules it broke."""

    line: int
    case_id: str = ""
    violations: tuple[Violation, ...] = ()


IMPORT_BATCH = 500
T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Consecutive lists of at most `size` items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_cases(
    csv_cases: Iterable[CsvCase], creditor_id: str, uow: UnitOfWork, today: date
) -> list[RowOutcome]:
    """Validate and record every acceptable case of a file (not committed); one outcome per row,
    in file order."""
    repo = CaseRepository(uow.session)
    outcomes: list[RowOutcome] = []
    for batch in batched(csv_cases, IMPORT_BATCH):
        outcomes += await _import_batch(repo, batch, creditor_id, uow, today)
    return sorted(outcomes, key=lambda o: o.line)


def _refused(refusals: dict[int, tuple[Violation, ...]]) -> list[RowOutcome]:
    return [RowOutcome(line, violations=v) for line, v in refusals.items()]


async def _import_batch(
    repo: CaseRepository,
    batch: Sequence[CsvCase],
    creditor_id: str,
    uow: UnitOfWork,
    today: date,
) -> list[RowOutcome]:
    outcomes: list[RowOutcome] = []
    candidates: list[tuple[CsvCase, Case]] = []
    now = utcnow()
    for csv_case in batch:
        if csv_case.command is None:
            outcomes += _refused(csv_case.refuse([]))
            continue
        try:
            case = replace(new_case(csv_case.command, today), submitted_at=now)
        except InvalidRequest as exc:
            outcomes += _refused(csv_case.refuse(exc.violations))
            continue
        if csv_case.problems:
            outcomes += _refused(csv_case.refuse([]))
            continue
        candidates.append((csv_case, case))
    pairs = [
        (case.debtor.key, line.invoice_number) for _, case in candidates for line in case.invoices
    ]
    claimed = await repo.claimed_pairs(creditor_id, pairs)
    first_seen: dict[tuple[str, str], int] = {}
    accepted: list[Case] = []
    for csv_case, case in candidates:
        problems: list[Violation] = []
        for index, line in enumerate(case.invoices):
            pair = (case.debtor.key, line.invoice_number)
            if pair in claimed:
                rule = f"{pair[1]} was already submitted for this debtor"
            elif pair in first_seen:
                rule = f"{pair[1]} for this debtor is already on line {first_seen[pair]}"
            else:
                continue
            problems.append(Violation(f"invoices[{index}].invoice_number", rule))
        if problems:
            outcomes += _refused(csv_case.refuse(problems))
            continue
        for index, line in enumerate(case.invoices):
            first_seen[(case.debtor.key, line.invoice_number)] = csv_case.lines[index]
        accepted.append(case)
        outcomes += [RowOutcome(line, case_id=case.case_id) for line in csv_case.lines]
    await repo.add_many(accepted)
    events = [case_submitted(case) for case in accepted]
    await uow.publish(*events)
    await repo.record_many(
        [
            {
                "case_id": case.case_id,
                "source": SERVICE,
                "event_type": event.envelope.event_type,
                "event_id": event.envelope.event_id,
                "summary": (
                    f"case submitted (csv): {len(case.invoices)} invoice(s), "
                    f"{format_amount(case.principal_minor, case.currency)} {case.currency} "
                    f"owed by {case.debtor.name}"
                ),
            }
            for case, event in zip(accepted, events, strict=True)
        ]
    )
    return outcomes


async def on_case_scored(scored: CaseScored, envelope: EventEnvelope, uow: UnitOfWork) -> None:
    """Scoring scored a case: note it on the timeline; a just-submitted case becomes scored."""
    repo = CaseRepository(uow.session)
    if not _is_uuid(scored.case_id):
        return
    await repo.mark_scored(scored.case_id)
    summary = (
        f"scored ({scored.trigger or 'case-submitted'}): Trustscore {scored.trustscore}/100, "
        f"segment {scored.segment}, strategy {scored.strategy}"
    )
    if scored.debtor_insolvent:
        summary += "; the debtor is in insolvency proceedings"
    await repo.record(
        scored.case_id,
        envelope.producer or "scoring",
        envelope.event_type,
        summary,
        envelope.event_id,
        occurred_at=envelope.occurred_at.ToDatetime(tzinfo=UTC)
        if envelope.HasField("occurred_at")
        else None,
    )
