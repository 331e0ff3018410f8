"""Intake's use cases: plain functions of (command, unit of work)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict

from intake.adapters.repository import CaseRepository
from intake.domain.errors import CaseNotFound, DuplicateInvoice, IdempotencyConflict
from intake.domain.model import Case, SubmitCase, new_case
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra_shared.db import OutgoingEvent, UnitOfWork
from recouvra_shared.events import new_event

SERVICE = "intake"
CASE_SUBMITTED = ("case-submitted", 1)


def _request_hash(command: SubmitCase) -> bytes:
    return hashlib.sha256(json.dumps(asdict(command), sort_keys=True).encode()).digest()


async def submit_case(
    command: SubmitCase, idempotency_key: str, uow: UnitOfWork
) -> tuple[str, bool]:
    """Record a case and its case-submitted event; returns (case id, replayed)."""
    cases = CaseRepository(uow.session)
    request_hash = _request_hash(command)
    if idempotency_key:
        seen = await cases.remembered(command.creditor_id, idempotency_key)
        if seen is not None:
            if seen[0] != request_hash:
                raise IdempotencyConflict("idempotency key reused with different content")
            return seen[1], True
    case = new_case(command)
    if not await cases.add(case):
        raise DuplicateInvoice(
            f"invoice_number: {case.invoice_number} was already submitted for this debtor"
        )
    if idempotency_key:
        await cases.remember(command.creditor_id, idempotency_key, request_hash, case.case_id)
    await uow.publish(case_submitted(case))
    await uow.commit()
    return case.case_id, False


def case_submitted(case: Case) -> OutgoingEvent:
    """The case-submitted event of a new case."""
    payload = CaseSubmitted(
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        debtor_name=case.debtor_name,
        debtor_is_business=case.debtor_is_business,
        invoice_number=case.invoice_number,
        amount=Money(currency=case.currency, minor_units=case.amount_minor),
        issue_date=case.issue_date.isoformat(),
        due_date=case.due_date.isoformat(),
        disputed=case.disputed,
    )
    event_type, version = CASE_SUBMITTED
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id=case.case_id,
        tenant_id=case.creditor_id,
        payload=payload,
    )


async def get_case(case_id: str, creditor_id: str | None, uow: UnitOfWork) -> Case:
    """One case; CaseNotFound when missing or not the creditor's."""
    case = await CaseRepository(uow.session).get(case_id, creditor_id)
    if case is None:
        raise CaseNotFound(case_id)
    return case
