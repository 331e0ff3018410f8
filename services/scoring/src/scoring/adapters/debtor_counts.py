"""The queries counting a debtor's cases across creditors, built once, their values bound at
each call (building the expression anew for every Score call cost more than the query)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, Date, Select, String, bindparam, column, func, select
from sqlalchemy.dialects.postgresql import UUID

from scoring.adapters.orm import cases
from scoring.domain.outcomes import OPEN, RECOVERED, UNRECOVERED, WITHDRAWN


def _counts_of(own: ColumnElement[bool], due_before: ColumnElement[date]) -> list[Any]:
    days_late = cases.c.closed_on - cases.c.due_date
    return [
        own,
        func.count(),
        func.count().filter(cases.c.status == RECOVERED),
        func.count().filter(
            cases.c.status.in_((OPEN, UNRECOVERED)) & (cases.c.due_date < due_before)
        ),
        func.coalesce(func.sum(days_late).filter(cases.c.status == RECOVERED), 0),
    ]


def _debtor_counts_many() -> Select[Any]:
    """`_debtor_counts` of many asks in one query: the asks as rows (unnest of one array per
    field, numbered from 1), each joined with its debtor's cases and counted apart."""
    asked = (
        func.unnest(
            bindparam("sirens", type_=ARRAY(String)),
            bindparam("tenants", type_=ARRAY(String)),
            bindparam("excluding", type_=ARRAY(UUID(as_uuid=False))),
            bindparam("due_before", type_=ARRAY(Date)),
        )
        .table_valued(
            column("siren", String),
            column("tenant_id", String),
            column("excluding", UUID(as_uuid=False)),
            column("due_before", Date),
            with_ordinality="ask",
        )
        .render_derived(name="asked")
    )
    own = (cases.c.tenant_id == asked.c.tenant_id).label("own")
    return (
        select(asked.c.ask, *_counts_of(own, asked.c.due_before))
        .select_from(asked)
        .join(
            cases,
            (cases.c.debtor_key == asked.c.siren)
            & (cases.c.status != WITHDRAWN)
            & cases.c.facts.is_not(None)
            & cases.c.case_id.is_distinct_from(asked.c.excluding),
        )
        .group_by(asked.c.ask, own)
    )


def _debtor_counts() -> Select[Any]:
    """A debtor's cases across creditors, counted for the tenant asking (own) and the others.

    Built once, its values bound at each call: building the expression anew for every Score
    call (operators, functions, bind parameters, then its cache key) cost more than the query.
    """
    own = (cases.c.tenant_id == bindparam("tenant_id")).label("own")
    return (
        select(*_counts_of(own, bindparam("due_before", type_=Date)))
        .where(
            cases.c.debtor_key == bindparam("siren"),
            cases.c.status != WITHDRAWN,
            cases.c.facts.is_not(None),
        )
        .group_by(own)
    )


DEBTOR_COUNTS = _debtor_counts()
DEBTOR_COUNTS_EXCLUDING = DEBTOR_COUNTS.where(cases.c.case_id != bindparam("excluding"))
DEBTOR_COUNTS_MANY = _debtor_counts_many()
