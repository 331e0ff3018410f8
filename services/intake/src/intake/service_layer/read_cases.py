"""Following cases: one case with what its debtor owes, a filtered page of cases, a timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from intake.domain.commands import GetCase, GetCaseTimeline, ListCases
from intake.domain.listing import Cursor, case_filter, optional_date, page_size, page_start
from intake.domain.model import (
    Case,
    CaseWithAmounts,
    TimelineEntry,
    checked_as_of,
    with_amounts,
)
from intake.domain.tenancy import creditor_scope
from intake.service_layer.lookup import visible_case
from intake.service_layer.rates import current_rates
from intake.service_layer.unit_of_work import IntakeUnitOfWork


@dataclass(frozen=True)
class CasePage:
    """A page of cases, and the token of the next page ('' on the last)."""

    cases: list[Case]
    next_page_token: str


async def get_case(query: GetCase, uow: IntakeUnitOfWork, today: date) -> CaseWithAmounts:
    """One case with what its debtor owes on the date asked (today by default)."""
    scope = creditor_scope(query.requester, query.creditor_id)
    asked = optional_date("as_of", query.as_of)
    case = await visible_case(query.case_id, scope, uow)
    as_of = checked_as_of(case, asked) if asked is not None else today
    return with_amounts(case, as_of, await current_rates(uow))


async def list_cases(query: ListCases, uow: IntakeUnitOfWork) -> CasePage:
    """A page of the cases the requester may see, newest first."""
    where = case_filter(query, creditor_scope(query.requester, query.creditor_id))
    size = page_size(query.page_size)
    found = await uow.cases.find(where, page_start(query.page_token), size + 1)
    page = found[:size]
    last = page[-1] if page else None
    if len(found) > size and last is not None and last.submitted_at is not None:
        return CasePage(page, Cursor(last.submitted_at, last.case_id).encode())
    return CasePage(page, "")


async def case_timeline(query: GetCaseTimeline, uow: IntakeUnitOfWork) -> list[TimelineEntry]:
    """What happened to a case, oldest first."""
    scope = creditor_scope(query.requester, query.creditor_id)
    case = await visible_case(query.case_id, scope, uow)
    return await uow.timelines.of_case(case.case_id)
