"""Submitting a case: validated, checked against the invoices the creditor already claimed from
the same debtor, recorded and announced, once per idempotency key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from intake.domain.commands import SubmitCase
from intake.domain.errors import DuplicateInvoice, Violation
from intake.domain.model import Case, new_case
from intake.domain.tenancy import acting_creditor
from intake.service_layer.events import case_submitted, recorded, submission_summary
from intake.service_layer.idempotency import Reply, once
from intake.service_layer.unit_of_work import IntakeUnitOfWork
from recouvra_shared.unit_of_work import utcnow


async def record_case(command: SubmitCase, uow: IntakeUnitOfWork, today: date) -> Case:
    """Validate and record a case with its case-submitted event (not committed)."""
    case = new_case(command, today, utcnow())
    numbers = [i.invoice_number for i in case.invoices]
    claimed = await uow.cases.claimed_invoices(case.creditor_id, case.debtor.key, numbers)
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

    return await once(
        unit_of_work, creditor_id, "SubmitCase", command.idempotency, record_and_reply
    )
