"""Submitting a case: validated, checked against the invoices the creditor already claimed from
the same debtor, recorded and announced, once per idempotency key.

`Submissions` records the cases submitted at the same moment in one transaction (a group
commit): a submission went through ten round trips to PostgreSQL and one durable commit on its
own; under load, those in flight together now share them. Each still gets its own answer: its
case, its refusal or the replay of its key's first answer, exactly as alone."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from intake.domain.commands import SubmitCase
from intake.domain.errors import ConcurrentClaim, DuplicateInvoice, InvalidRequest, Violation
from intake.domain.model import Case, new_case
from intake.domain.tenancy import acting_creditor
from intake.service_layer.events import case_submitted, recorded, submission_summary
from intake.service_layer.idempotency import Reply, fingerprint, once, replay
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.coalescing import Coalescer
from recouvra_shared.tracing import trace_headers
from recouvra_shared.unit_of_work import OutgoingEvent, utcnow

OPERATION = "SubmitCase"


def _refused_duplicates(numbers: Sequence[str], claimed: set[str]) -> DuplicateInvoice:
    return DuplicateInvoice(
        [
            Violation(
                f"invoices[{index}].invoice_number",
                f"{number} was already submitted for this debtor",
            )
            for index, number in enumerate(numbers)
            if number in claimed
        ]
    )


async def record_case(command: SubmitCase, uow: IntakeUnitOfWork, today: date) -> Case:
    """Validate and record a case with its case-submitted event (not committed)."""
    case = new_case(command, today, utcnow())
    numbers = [i.invoice_number for i in case.invoices]
    claimed = await uow.cases.claimed_invoices(case.creditor_id, case.debtor.key, numbers)
    if claimed:
        raise _refused_duplicates(numbers, claimed)
    await uow.cases.add(case)
    event = case_submitted(case, uow.debtor_key(case.debtor.key))
    await uow.publish(event)
    await uow.timelines.append(recorded(event, submission_summary(case)))
    return case


async def submit_case(
    command: SubmitCase,
    unit_of_work: Callable[[], IntakeUnitOfWork],
    today: date,
    reply: Callable[[Case], bytes],
) -> Reply:
    """Record a new case for the creditor the requester acts for; `reply` writes the answer
    that a replay of the same key returns."""
    creditor_id = acting_creditor(command.requester, command.creditor_id, required=False)
    submission = replace(command, creditor_id=creditor_id)

    async def record_and_reply(uow: IntakeUnitOfWork) -> bytes:
        return reply(await record_case(submission, uow, today))

    return await once(unit_of_work, creditor_id, OPERATION, command.idempotency, record_and_reply)


@dataclass(frozen=True)
class _Submission:
    """A valid case waiting for its batch, with what its caller's request carried."""

    command: SubmitCase  # its creditor resolved
    today: date
    case: Case
    request_hash: bytes
    # The caller's context (its trace): the case's event continues the caller's trace, not
    # the batch's.
    context: contextvars.Context

    @property
    def key(self) -> tuple[str, str] | None:
        key = self.command.idempotency.key
        return (self.command.creditor_id, key) if key else None

    @property
    def invoices(self) -> list[tuple[str, str, str]]:
        case = self.case
        return [(case.creditor_id, case.debtor.key, i.invoice_number) for i in case.invoices]


class Submissions:
    """`submit_case` for calls in flight together: their cases recorded in one transaction,
    with one statement per table and one commit for all of them. A lone call goes straight
    through; the calls that arrive meanwhile form the next batch."""

    def __init__(
        self,
        unit_of_work: Callable[[], IntakeUnitOfWork],
        reply: Callable[[Case], bytes],
        *,
        max_batch: int = 64,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.reply = reply
        self._batches: Coalescer[_Submission, Reply] = Coalescer(
            self._record, max_batch=max_batch, parallel=2
        )

    async def submit(self, command: SubmitCase, today: date) -> Reply:
        """Record a new case for the creditor the requester acts for (see `submit_case`)."""
        creditor_id = acting_creditor(command.requester, command.creditor_id, required=False)
        submission = replace(command, creditor_id=creditor_id)
        try:
            case = new_case(submission, today, utcnow())
        except InvalidRequest:
            # Refused, or a key's replay whose rules changed since (a date now in the past):
            # alone, where the key's first answer is looked up before anything is validated.
            return await submit_case(command, self.unit_of_work, today, self.reply)
        return await self._batches.submit(
            _Submission(
                submission,
                today,
                case,
                fingerprint(OPERATION, command.idempotency.content),
                contextvars.copy_context(),
            )
        )

    async def _record(self, batch: Sequence[_Submission]) -> list[Reply | Exception]:
        together, after = _apart(batch)
        try:
            outcomes = await self._record_together(together)
        except ConcurrentClaim:  # another transaction took a key or an invoice meanwhile
            outcomes = {}
            after = list(batch)
        for submission in after:  # each sees what was committed before it, as alone
            outcomes[id(submission)] = await self._alone(submission)
        return [outcomes[id(submission)] for submission in batch]

    async def _record_together(self, batch: Sequence[_Submission]) -> dict[int, Reply | Exception]:
        outcomes: dict[int, Reply | Exception] = {}
        async with self.unit_of_work() as uow:
            seen = await uow.idempotency.remembered_many([s.key for s in batch if s.key])
            claimed = await uow.cases.claimed([i for s in batch for i in s.invoices])
            accepted: list[tuple[_Submission, bytes]] = []
            for submission in batch:
                outcome = _checked(submission, seen, claimed)
                if outcome is None:
                    answer = self.reply(submission.case)
                    outcome = Reply(answer, replayed=False)
                    accepted.append((submission, answer))
                outcomes[id(submission)] = outcome
            if accepted:
                events = [_announced(s.case, s.context, uow) for s, _ in accepted]
                await uow.cases.add(*(s.case for s, _ in accepted))
                await uow.publish(*events)
                await uow.timelines.append(
                    *(
                        recorded(event, submission_summary(s.case))
                        for (s, _), event in zip(accepted, events, strict=True)
                    )
                )
                await uow.idempotency.remember_many(
                    [(*s.key, OPERATION, s.request_hash, answer) for s, answer in accepted if s.key]
                )
                await uow.commit()
        return outcomes

    async def _alone(self, submission: _Submission) -> Reply | Exception:
        run = submit_case(submission.command, self.unit_of_work, submission.today, self.reply)
        try:
            return await asyncio.create_task(run, context=submission.context)
        except Exception as refused:
            return refused


def _apart(batch: Sequence[_Submission]) -> tuple[list[_Submission], list[_Submission]]:
    """The submissions that can be recorded together, and those that must wait for them: one
    that reuses a key or claims an invoice of an earlier one in the batch is its replay or its
    duplicate, which only the earlier one's commit can tell."""
    keys: set[tuple[str, str]] = set()
    invoices: set[tuple[str, str, str]] = set()
    together: list[_Submission] = []
    after: list[_Submission] = []
    for submission in batch:
        key, claims = submission.key, set(submission.invoices)
        if (key is not None and key in keys) or not invoices.isdisjoint(claims):
            after.append(submission)
            continue
        together.append(submission)
        invoices |= claims
        if key is not None:
            keys.add(key)
    return together, after


def _checked(
    submission: _Submission,
    seen: dict[tuple[str, str], tuple[bytes, bytes | None]],
    claimed: set[tuple[str, str, str]],
) -> Reply | Exception | None:
    """A replay's answer, a refusal, or None for a case to record."""
    key = submission.key
    if key is not None and key in seen:
        try:
            return replay(seen[key], submission.request_hash)
        except Exception as refused:
            return refused
    if taken := {number for _, _, number in claimed.intersection(submission.invoices)}:
        return _refused_duplicates([i.invoice_number for i in submission.case.invoices], taken)
    return None


def _announced(case: Case, context: contextvars.Context, uow: IntakeUnitOfWork) -> OutgoingEvent:
    """The case's event, in its caller's trace: the envelope's and the outbox row's."""
    event = context.run(case_submitted, case, uow.debtor_key(case.debtor.key))
    return replace(event, headers=context.run(trace_headers))
