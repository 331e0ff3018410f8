"""Importing a CSV file of cases: every case validated on its own, acceptable ones recorded and
announced together, refused rows reported with every rule they break, by column."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from intake.domain import csv_import
from intake.domain.commands import IdempotencyKey, ImportCases
from intake.domain.csv_import import CsvCase
from intake.domain.errors import InvalidRequest, Violation
from intake.domain.model import Case, new_case
from intake.domain.tenancy import acting_creditor
from intake.service_layer.events import cases_submitted, recorded, submission_summary
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.ids import uuid4_texts
from recouvra_shared.unit_of_work import utcnow

# Cases checked for duplicates and inserted together: a few statements per batch, not per row.
IMPORT_BATCH = 500
T = TypeVar("T")


@dataclass(frozen=True)
class RowOutcome:
    """What became of one imported row: a case, or the rules it broke."""

    line: int
    case_id: str = ""
    violations: tuple[Violation, ...] = ()


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

    Batches overlap: while PostgreSQL writes one batch, the next one is read and validated
    (`_screen` hands the loop back every few rows, so the write's statements go out as their
    answers come in). The duplicate check of a batch still runs after the write before it."""
    outcomes: list[RowOutcome] = []
    first_seen: dict[tuple[str, str], int] = {}
    writing: asyncio.Task[None] | None = None
    try:
        for batch in batched(csv_cases, IMPORT_BATCH):
            refused, candidates = await _screen(batch, today)
            outcomes += refused
            if writing is not None:
                await writing
            pairs = [
                (case.debtor.key, line.invoice_number)
                for _, case in candidates
                for line in case.invoices
            ]
            claimed = await uow.cases.claimed_pairs(creditor_id, pairs)
            decided, accepted = _decide(candidates, claimed, first_seen)
            outcomes += decided
            writing = asyncio.create_task(_write(creditor_id, accepted, uow))
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


# Rows validated between two turns of the event loop while a batch is being written.
SCREEN_SLICE = 25


async def _screen(
    batch: Sequence[CsvCase], today: date
) -> tuple[list[RowOutcome], list[tuple[CsvCase, Case]]]:
    """Each case of the batch validated on its own: the rows refused, the cases to check for
    duplicates."""
    outcomes: list[RowOutcome] = []
    candidates: list[tuple[CsvCase, Case]] = []
    now = utcnow()
    case_ids = uuid4_texts(len(batch))
    for position, csv_case in enumerate(batch, start=1):
        if position % SCREEN_SLICE == 0:
            await asyncio.sleep(0)
        if csv_case.command is None:
            outcomes += _refused(csv_case.refuse([]))
            continue
        try:
            case = new_case(csv_case.command, today, now, case_ids[position - 1])
        except InvalidRequest as exc:
            outcomes += _refused(csv_case.refuse(exc.violations))
            continue
        if csv_case.problems:
            outcomes += _refused(csv_case.refuse([]))
            continue
        candidates.append((csv_case, case))
    return outcomes, candidates


def _decide(
    candidates: Sequence[tuple[CsvCase, Case]],
    claimed: set[tuple[str, str]],
    first_seen: dict[tuple[str, str], int],
) -> tuple[list[RowOutcome], list[Case]]:
    """Refuse the cases claiming an invoice already submitted, or one an earlier line of the
    file claims (`first_seen`, updated); accept the others."""
    outcomes: list[RowOutcome] = []
    accepted: list[Case] = []
    for csv_case, case in candidates:
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
        accepted.append(case)
        outcomes += [RowOutcome(line, case_id=case.case_id) for line in csv_case.lines]
    return outcomes, accepted


async def _write(creditor_id: str, accepted: Sequence[Case], uow: IntakeUnitOfWork) -> None:
    """Record the creditor's accepted cases, their case-submitted events and timeline entries."""
    if not accepted:
        return
    events = cases_submitted(
        creditor_id, [(case, uow.debtor_key(case.debtor.key)) for case in accepted]
    )
    await uow.cases.add(*accepted)
    await uow.publish(*events)
    await uow.timelines.append(
        *(
            recorded(event, submission_summary(case))
            for case, event in zip(accepted, events, strict=True)
        )
    )
