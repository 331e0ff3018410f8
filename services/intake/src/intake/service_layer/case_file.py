"""The case file for the provider working a case: everything it needs to collect (the debtor's
identity and contacts, the invoices, what is owed), only while it holds the case by intake's
own record of matching's facts, and every read is put on the case's timeline for the creditor."""

from __future__ import annotations

from datetime import date

from intake.domain.case_life import Holder, is_held_by
from intake.domain.commands import GetCaseFile
from intake.domain.errors import CaseNotFound
from intake.domain.model import CaseWithAmounts, TimelineEntry, is_case_id, with_amounts
from intake.service_layer.unit_of_work import IntakeUnitOfWork

PROVIDER = "provider"


async def read_case_file(
    query: GetCaseFile, uow: IntakeUnitOfWork, today: date
) -> tuple[CaseWithAmounts, Holder]:
    """The case with what is owed today, for its current holder; CaseNotFound for anyone else,
    exactly as for a case that does not exist. The read is recorded (and committed)."""
    requester = query.requester
    provider_id = requester.tenant_id if requester.kind == PROVIDER else ""
    case = await uow.cases.get(query.case_id, None) if is_case_id(query.case_id) else None
    if case is None or not is_held_by(case.life, provider_id):
        raise CaseNotFound(query.case_id)
    holder = case.life.current_holder
    assert holder is not None
    await uow.timelines.append(
        TimelineEntry(
            case_id=case.case_id,
            source="intake",
            event_type="case-file-read",
            summary=f"case file read by provider {provider_id}, holder in round {holder.round}",
            event_id=None,
        )
    )
    await uow.commit()
    return with_amounts(case, today), holder
