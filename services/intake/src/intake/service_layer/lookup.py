"""Finding the case a request names, as the requester may see it: a foreign case is exactly as
missing as one that does not exist."""

from __future__ import annotations

from intake.domain.errors import CaseNotFound, CaseStateConflict
from intake.domain.model import CLOSED_STATUSES, Case, is_case_id
from intake.service_layer.unit_of_work import IntakeUnitOfWork


async def visible_case(case_id: str, scope: str | None, uow: IntakeUnitOfWork) -> Case:
    """The case, if the scope (a creditor, or None for any) covers it; else CaseNotFound."""
    case = await uow.cases.get(case_id, scope) if is_case_id(case_id) else None
    if case is None:
        raise CaseNotFound(case_id)
    return case


async def open_case(case_id: str, scope: str | None, uow: IntakeUnitOfWork) -> Case:
    """The case, locked for a change, when it is still open; else CaseStateConflict."""
    case = await uow.cases.get(case_id, scope, lock=True) if is_case_id(case_id) else None
    if case is None:
        raise CaseNotFound(case_id)
    if case.status in CLOSED_STATUSES:
        raise CaseStateConflict(f"case_id: the case is {case.status.replace('_', ' ')}")
    return case
