"""Importing a CSV file of cases: every case validated on its own, acceptable ones recorded and
announced together, refused rows reported with every rule they break, by column."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice

from intake.domain import csv_import
from intake.domain.commands import IdempotencyKey, ImportCases
from intake.domain.csv_import import CsvCase
from intake.domain.errors import InvalidRequest, Violation
from intake.domain.model import Case, TimelineEntry, new_case
from intake.domain.tenancy import acting_creditor
from intake.service_layer.events import cases_submitted, recorded, submission_summary
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.ids import uuid4_texts
from recouvra_shared.unit_of_work import OutgoingEvent, utcnow

# Cases checked for duplicates and inserted together: a few statements per batch, not per row.
IMPORT_BATCH = 500


@dataclass(frozen=True)
class RowOutcome:
    """What became of one imported row: a case, or the rules it broke."""

    line: int
    case_id: str = ""
    violations: tuple[Violation, ...] = ()


async def import_cases(
    command: ImportCases,
    unit_of_work: Callable[[], IntakeUnitOfWork],
    today: date,
    reply: Callable[[list[RowOutcome]], bytes],
) -> Reply:
    """Record every acceptable case of the file in one transaction; `reply` writes the report
    (one outcome per row, in file order) that a replay of the same key returns."""
    creditor_id = acting_creditor(command.requester, command.creditor_id, required=True)

    async def import_and_report(uow: IntakeUnitOfWork) -> bytes:
        csv_cases = csv_import.read_cases(command.content, creditor_id)
        return reply(await record_cases(csv_cases, creditor_id, uow, today))

    key = IdempotencyKey(command.idempotency_key, command.content)
    return await once(unit_of_work, creditor_id, "ImportCases", key, import_and_report)


async def record_cases(
    csv_cases: Iterable[CsvCase], creditor_id: str, uow: IntakeUnitOfWork, today: date
) -> list[RowOutcome]:
    """Validate and record every acceptable case (not committed); one outcome per row, in file
    order.

    Batches overlap: while PostgreSQL writes one batch, the next one is read, validated and
    given its events and timeline entries (`_screen` hands the loop back every few rows, so
    the write's statements go out as their answers come in; the write itself is only
    statements). The duplicate check of a batch still runs after the write before it."""
    outcomes: list[RowOutcome] = []
    first_seen: dict[tuple[str, str], int] = {}
    writing: asyncio.Task[None] | None = None
    unread = iter(csv_cases)
    try:
        while screened := await _screen(unread, creditor_id, uow, today):
            outcomes += screened.refused
            if writing is not None:
                await writing
            pairs = [
                (candidate.case.debtor.key, line.invoice_number)
                for candidate in screened.candidates
                for line in candidate.case.invoices
            ]
            claimed = await uow.cases.claimed_pairs(creditor_id, pairs)
            decided, accepted = _decide(screened.candidates, claimed, first_seen)
            outcomes += decided
            writing = asyncio.create_task(_write(accepted, uow))
            await asyncio.sleep(0)  # the write's first statement leaves now
        if writing is not None:
            await writing
    finally:
        if writing is not None and not writing.done():
            # A refusal of the file mid-way: the write in flight ends before the unit of work
            # rolls back (its own failure, if any, is not the reason to report).
            with contextlib.suppress(Exception):
                await writing
    return sorted(outcomes, key=lambda o: o.line)


def _refused(refusals: dict[int, tuple[Violation, ...]]) -> list[RowOutcome]:
    return [RowOutcome(line, violations=v) for line, v in refusals.items()]


# Rows read and validated between two turns of the event loop while a batch is being written.
SCREEN_SLICE = 25


@dataclass(frozen=True)
class _Candidate:
    """A valid case, still to be checked for duplicates, with what recording it writes."""

    csv_case: CsvCase
    case: Case
    event: OutgoingEvent
    entry: TimelineEntry


@dataclass
class _Screened:
    """A batch read from the file: its refused rows, and its cases to check for duplicates."""

    read: int = 0
    refused: list[RowOutcome] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.read > 0


async def _screen(
    unread: Iterator[CsvCase], creditor_id: str, uow: IntakeUnitOfWork, today: date
) -> _Screened:
    """The next batch of cases from the file, each validated on its own; the valid ones with
    their case-submitted events and timeline entries, built now so that the batch's write is
    only statements. Empty when the file is read."""
    screened = _Screened()
    now = utcnow()
    while screened.read < IMPORT_BATCH:
        chunk = list(islice(unread, min(SCREEN_SLICE, IMPORT_BATCH - screened.read)))
        if not chunk:
            break
        screened.read += len(chunk)
        valid: list[tuple[CsvCase, Case]] = []
        for csv_case, case_id in zip(chunk, uuid4_texts(len(chunk)), strict=True):
            if csv_case.command is None:
                screened.refused += _refused(csv_case.refuse([]))
                continue
            try:
                case = new_case(csv_case.command, today, now, case_id)
            except InvalidRequest as exc:
                screened.refused += _refused(csv_case.refuse(exc.violations))
                continue
            if csv_case.problems:
                screened.refused += _refused(csv_case.refuse([]))
                continue
            valid.append((csv_case, case))
        # A case refused as a duplicate later drops its event unsent and its entry unwritten.
        events = cases_submitted(
            creditor_id, [(case, uow.debtor_key(case.debtor.key)) for _, case in valid]
        )
        screened.candidates += [
            _Candidate(csv_case, case, event, recorded(event, submission_summary(case)))
            for (csv_case, case), event in zip(valid, events, strict=True)
        ]
        await asyncio.sleep(0)
    return screened


def _decide(
    candidates: Sequence[_Candidate],
    claimed: set[tuple[str, str]],
    first_seen: dict[tuple[str, str], int],
) -> tuple[list[RowOutcome], list[_Candidate]]:
    """Refuse the cases claiming an invoice already submitted, or one an earlier line of the
    file claims (`first_seen`, updated); accept the others."""
    outcomes: list[RowOutcome] = []
    accepted: list[_Candidate] = []
    for candidate in candidates:
        csv_case, case = candidate.csv_case, candidate.case
        problems: list[Violation] = []
        for index, line in enumerate(case.invoices):
            pair = (case.debtor.key, line.invoice_number)
            if pair in first_seen:  # the file's own line, even once its batch is written
                rule = f"{pair[1]} for this debtor is already on line {first_seen[pair]}"
            elif pair in claimed:
                rule = f"{pair[1]} was already submitted for this debtor"
            else:
                continue
            problems.append(Violation(f"invoices[{index}].invoice_number", rule))
        if problems:
            outcomes += _refused(csv_case.refuse(problems))
            continue
        for index, line in enumerate(case.invoices):
            first_seen[(case.debtor.key, line.invoice_number)] = csv_case.lines[index]
        accepted.append(candidate)
        outcomes += [RowOutcome(line, case_id=case.case_id) for line in csv_case.lines]
    return outcomes, accepted


async def _write(accepted: Sequence[_Candidate], uow: IntakeUnitOfWork) -> None:
    """Record the accepted cases, their case-submitted events and timeline entries."""
    if not accepted:
        return
    await uow.cases.add(*(candidate.case for candidate in accepted))
    await uow.publish(*(candidate.event for candidate in accepted))
    await uow.timelines.append(*(candidate.entry for candidate in accepted))
