"""Intake's tables read and written inside a unit of work (the SQL side of
service_layer/unit_of_work.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, fields
from functools import lru_cache
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from intake.adapters.orm import (
    cases,
    declared_payments,
    idempotency_keys,
    invoice_lines,
    timeline,
)
from intake.domain.case_life import SCORED, SUBMITTED, CaseLife, Holder
from intake.domain.debtors import COMPANY, CONSUMER, Debtor
from intake.domain.errors import ConcurrentClaim
from intake.domain.invoices import InvoiceLine
from intake.domain.listing import CaseFilter, Cursor
from intake.domain.model import Case, DeclaredPayment, TimelineEntry
from recouvra_shared.unit_of_work import utcnow


@contextmanager
def _claims() -> Iterator[None]:
    """A unique row another transaction inserted first is a lost race, not a fault."""
    try:
        yield
    except IntegrityError as exc:
        raise ConcurrentClaim(str(exc.orig)) from exc


# The debtor's fields, read once: `asdict` would walk (and deep-copy) each debtor generically,
# which an import of many rows pays per row.
_DEBTOR_FIELDS = tuple(f.name for f in fields(Debtor))


def _debtor_json(debtor: Debtor) -> dict[str, Any]:
    data = {name: getattr(debtor, name) for name in _DEBTOR_FIELDS}
    data["address_lines"] = list(debtor.address_lines)
    return data


@lru_cache(maxsize=4096)
def _debtor_text(debtor: Debtor) -> str:
    """The debtor's JSON as SQLAlchemy's JSONB would write it, for COPY; cached: an import's
    rows repeat their debtors."""
    return json.dumps(_debtor_json(debtor))


def _debtor_of(row: Any) -> Debtor:
    data = dict(row["debtor"] or {})
    if not data:
        return Debtor(
            kind=COMPANY if row["debtor_is_business"] else CONSUMER, name=row["debtor_name"]
        )
    data["address_lines"] = tuple(data.get("address_lines", ()))
    return Debtor(**data)


def _case_row(case: Case, debtor: Callable[[Debtor], object] = _debtor_json) -> dict[str, Any]:
    """The case's row; its debtor as `debtor` writes it (a dict for JSONB, text for COPY)."""
    first = case.first_invoice
    return {
        "case_id": case.case_id,
        "creditor_id": case.creditor_id,
        "debtor_name": case.debtor.name,
        "debtor_is_business": case.debtor.is_company,
        "invoice_number": first.invoice_number,
        "currency": case.currency,
        "amount_minor": case.principal_minor,
        "issue_date": min(i.issue_date for i in case.invoices),
        "due_date": first.due_date,
        "disputed": case.disputed,
        "status": case.status,
        "debtor": debtor(case.debtor),
        "debtor_key": case.debtor.key,
        "debtor_siren": case.debtor.siren,
        "notes": case.notes,
        "source": case.source,
        "created_at": case.submitted_at or utcnow(),
    }


# From this many cases at once (an import's batch) the rows go in with COPY: nothing to build,
# bind and plan per row. A submission's one case takes the INSERT.
COPY_FROM = 50


def _holder_of(row: Any) -> Holder | None:
    if not row["holder_provider_id"]:
        return None
    return Holder(row["holder_provider_id"], row["holder_round"], row["holder_window_ends_at"])


# What a case's life is read from: built once, the case id bound at each call.
_LIFE = select(
    cases.c.status,
    cases.c.round,
    cases.c.holder_provider_id,
    cases.c.holder_round,
    cases.c.holder_window_ends_at,
).where(cases.c.case_id == bindparam("case_id"))
_LIFE_LOCKED = _LIFE.with_for_update()
# The lives of many cases, locked in case id order (two transactions locking some of the same
# cases wait for one another instead of each holding one the other needs).
_LIVES_LOCKED = (
    select(cases.c.case_id, *_LIFE.selected_columns)
    .where(cases.c.case_id == func.any(bindparam("case_ids", type_=ARRAY(UUID(as_uuid=False)))))
    .order_by(cases.c.case_id)
    .with_for_update()
)
# Statements every consumed fact runs, built once (building one costs more than running it
# through the compiled cache). _FOLLOW writes where many cases now stand in one statement: one
# array per column, unnested into rows and joined to the cases by id.
_MOVED = (
    func.unnest(
        bindparam("case_ids", type_=ARRAY(UUID(as_uuid=False))),
        bindparam("statuses", type_=ARRAY(String)),
        bindparam("rounds", type_=ARRAY(Integer)),
        bindparam("holders", type_=ARRAY(String)),
        bindparam("holder_rounds", type_=ARRAY(Integer)),
        bindparam("holder_ends", type_=ARRAY(DateTime(timezone=True))),
    )
    .table_valued(
        column("case_id", UUID(as_uuid=False)),
        column("status", String),
        column("round", Integer),
        column("holder_provider_id", String),
        column("holder_round", Integer),
        column("holder_window_ends_at", DateTime(timezone=True)),
    )
    .render_derived(name="moved")
)
_FOLLOW = (
    update(cases)
    .where(cases.c.case_id == _MOVED.c.case_id)
    .values(
        status=_MOVED.c.status,
        round=_MOVED.c.round,
        holder_provider_id=_MOVED.c.holder_provider_id,
        holder_round=_MOVED.c.holder_round,
        holder_window_ends_at=_MOVED.c.holder_window_ends_at,
    )
)
_MARK_SCORED = (
    update(cases)
    .where(cases.c.case_id == bindparam("scored_case"), cases.c.status == SUBMITTED)
    .values(status=SCORED)
)
# Timeline entries in one statement of fixed text (prepared once per connection), whatever
# their count, in the order given (their ids follow it); an entry without a time takes the
# transaction's start, as the column's default would.
_APPEND = text(
    "INSERT INTO timeline (case_id, occurred_at, source, event_type, summary, event_id)"
    " SELECT t.case_id, COALESCE(t.occurred_at, now()), t.source, t.event_type, t.summary,"
    " t.event_id"
    " FROM unnest(CAST(:case_ids AS uuid[]), CAST(:times AS timestamptz[]),"
    " CAST(:sources AS text[]), CAST(:event_types AS text[]), CAST(:summaries AS text[]),"
    " CAST(:event_ids AS uuid[]))"
    " WITH ORDINALITY AS t(case_id, occurred_at, source, event_type, summary, event_id, position)"
    " ORDER BY t.position"
    " ON CONFLICT DO NOTHING"
)
_DEBTOR = select(cases.c.debtor, cases.c.debtor_is_business, cases.c.debtor_name).where(
    cases.c.case_id == bindparam("case_id")
)

# Which of many (debtor, invoice number) pairs a creditor already claimed: each pair looked up
# in the unique index on its three columns (the LIMIT keeps the lookup a probe per pair), so the
# cost is that of the pairs asked, whatever the creditor's history or the rows this transaction
# wrote before asking (an import's earlier batches, which the planner's statistics do not
# count: a join would scan all of the creditor's lines for each batch).
_ASKED = (
    func.unnest(
        bindparam("creditor_ids", type_=ARRAY(String)),
        bindparam("debtor_keys", type_=ARRAY(String)),
        bindparam("numbers", type_=ARRAY(String)),
    )
    .table_valued(
        column("creditor_id", String),
        column("debtor_key", String),
        column("invoice_number", String),
    )
    .render_derived(name="asked")
)
_CLAIM = (
    select(literal_column("1"))
    .where(
        invoice_lines.c.creditor_id == _ASKED.c.creditor_id,
        invoice_lines.c.debtor_key == _ASKED.c.debtor_key,
        invoice_lines.c.invoice_number == _ASKED.c.invoice_number,
    )
    .limit(1)
    .lateral("claim")
)
_CLAIMED = select(_ASKED.c.creditor_id, _ASKED.c.debtor_key, _ASKED.c.invoice_number).select_from(
    _ASKED.join(_CLAIM, true())
)


def _claim_order(row: dict[str, Any]) -> tuple[str, str, str]:
    return row["creditor_id"], row["debtor_key"], row["invoice_number"]


class SqlCases:
    """Cases of the intake database, always read on behalf of one creditor (or a service).

    Where a case now stands (`follow`) is kept until the unit of work commits, then written for
    all the cases followed in one statement: a batch of consumed facts moves a case each, and
    one UPDATE for the batch costs far less than one per fact. Any other statement of this
    repository writes what was kept first, so nothing reads or overwrites a case behind it;
    `life_of` of a case already followed, or locked by `hold`, in this unit of work answers
    from what it holds, without a statement."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._followed: dict[str, CaseLife] = {}
        self._locked: set[str] = set()
        self._held: dict[str, CaseLife | None] = {}  # locked by `hold`: nobody else changes them

    async def hold(self, case_ids: Sequence[str]) -> None:
        """Lock these cases until the end of the unit of work, in one statement, and keep
        where each stands (or that intake never made it) for `life_of`."""
        asked = sorted(set(case_ids) - self._locked)
        if not asked:
            return
        await self.flush()
        rows = (await self.session.execute(_LIVES_LOCKED, {"case_ids": asked})).mappings()
        found = {
            row["case_id"]: CaseLife(row["status"], row["round"], _holder_of(row)) for row in rows
        }
        # Kept under the id as asked (the database answers each in its canonical spelling).
        self._held.update((case_id, found.get(str(uuid.UUID(case_id)))) for case_id in asked)
        self._locked.update(asked)

    async def flush(self) -> None:
        """Write where each followed case now stands, in case id order."""
        if not self._followed:
            return
        followed, self._followed = self._followed, {}
        ids = sorted(followed)
        lives = [followed[case_id] for case_id in ids]
        holders = [life.holder for life in lives]
        await self.session.execute(
            _FOLLOW,
            {
                "case_ids": ids,
                "statuses": [life.status for life in lives],
                "rounds": [life.round for life in lives],
                "holders": [h.provider_id if h else "" for h in holders],
                "holder_rounds": [h.round if h else 0 for h in holders],
                "holder_ends": [h.window_ends_at if h else None for h in holders],
            },
        )

    async def claimed_invoices(
        self, creditor_id: str, debtor_key: str, numbers: Sequence[str]
    ) -> set[str]:
        """Which of these invoice numbers the creditor already claimed from this debtor."""
        await self.flush()
        rows = await self.session.execute(
            select(invoice_lines.c.invoice_number).where(
                invoice_lines.c.creditor_id == creditor_id,
                invoice_lines.c.debtor_key == debtor_key,
                invoice_lines.c.invoice_number.in_(list(numbers)),
            )
        )
        return set(rows.scalars())

    async def claimed_pairs(
        self, creditor_id: str, pairs: Sequence[tuple[str, str]]
    ) -> set[tuple[str, str]]:
        """Which (debtor key, invoice number) pairs the creditor already claimed."""
        claimed = await self.claimed([(creditor_id, key, number) for key, number in pairs])
        return {(key, number) for _, key, number in claimed}

    async def claimed(self, invoices: Sequence[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
        """Which (creditor, debtor key, invoice number) the creditors already claimed."""
        await self.flush()
        if not invoices:
            return set()
        asked = sorted(set(invoices))
        rows = await self.session.execute(
            _CLAIMED,
            {
                "creditor_ids": [creditor for creditor, _, _ in asked],
                "debtor_keys": [key for _, key, _ in asked],
                "numbers": [number for _, _, number in asked],
            },
        )
        return {(row.creditor_id, row.debtor_key, row.invoice_number) for row in rows}

    async def add(self, *new_cases: Case) -> None:
        """Insert cases and their invoice lines: two statements, or two COPYs for a batch."""
        await self.flush()
        if not new_cases:
            return
        copied = len(new_cases) >= COPY_FROM
        case_rows = [
            _case_row(case, _debtor_text if copied else _debtor_json) for case in new_cases
        ]
        line_rows = [
            {
                "case_id": case.case_id,
                "creditor_id": case.creditor_id,
                "debtor_key": case.debtor.key,
                "position": position,
                "invoice_number": line.invoice_number,
                "issue_date": line.issue_date,
                "due_date": line.due_date,
                "amount_due_minor": line.amount_due_minor,
                "total_minor": line.total_minor,
                "description": line.description,
            }
            for case in new_cases
            for position, line in enumerate(case.invoices)
        ]
        # Claimed in the unique key's order: two transactions claiming some of the same
        # invoices wait for one another (the later is then ConcurrentClaim) instead of each
        # holding one the other needs, a deadlock PostgreSQL breaks by failing one of them.
        line_rows.sort(key=_claim_order)
        if copied:
            await self._copy(case_rows, line_rows)
            return
        await self.session.execute(insert(cases), case_rows)
        with _claims():
            await self.session.execute(insert(invoice_lines), line_rows)

    async def _copy(self, case_rows: list[dict[str, Any]], line_rows: list[dict[str, Any]]) -> None:
        """COPY the rows in, on the unit of work's own connection and transaction."""
        connection = await self.session.connection()
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None, "an asyncpg connection"
        await raw.copy_records_to_table(
            cases.name,
            records=[tuple(row.values()) for row in case_rows],
            columns=list(case_rows[0]),
        )
        try:
            await raw.copy_records_to_table(
                invoice_lines.name,
                records=[tuple(row.values()) for row in line_rows],
                columns=list(line_rows[0]),
            )
        except asyncpg.UniqueViolationError as exc:
            raise ConcurrentClaim(str(exc)) from exc

    async def get(
        self, case_id: str, creditor_id: str | None, *, lock: bool = False
    ) -> Case | None:
        """The case, if it exists and (when a creditor is given) belongs to that creditor."""
        await self.flush()
        query = select(cases).where(cases.c.case_id == case_id)
        if creditor_id is not None:
            query = query.where(cases.c.creditor_id == creditor_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).mappings().first()
        if row is None:
            return None
        if lock:
            self._locked.add(case_id)
        return (await self._assemble([row], with_payments=True))[0]

    async def debtor_of(self, case_id: str) -> Debtor | None:
        """The case's debtor alone, in one statement (None when there is no such case)."""
        await self.flush()
        row = (await self.session.execute(_DEBTOR, {"case_id": case_id})).mappings().first()
        return None if row is None else _debtor_of(row)

    async def life_of(self, case_id: str, *, lock: bool = False) -> CaseLife | None:
        """Status, round and holder of the case, in one statement (none when this unit of work
        followed the case and, if a lock is asked, holds it already)."""
        kept = self._followed.get(case_id)
        if kept is not None and (case_id in self._locked or not lock):
            return kept
        if case_id in self._held:
            return self._held[case_id]
        await self.flush()
        row = (
            (await self.session.execute(_LIFE_LOCKED if lock else _LIFE, {"case_id": case_id}))
            .mappings()
            .first()
        )
        if row is None:
            return None
        if lock:
            self._locked.add(case_id)
        return CaseLife(row["status"], row["round"], _holder_of(row))

    async def _assemble(self, rows: Sequence[Any], *, with_payments: bool) -> list[Case]:
        ids = [row["case_id"] for row in rows]
        lines: dict[str, list[InvoiceLine]] = {i: [] for i in ids}
        for line in (
            await self.session.execute(
                select(invoice_lines)
                .where(invoice_lines.c.case_id.in_(ids))
                .order_by(invoice_lines.c.case_id, invoice_lines.c.position)
            )
        ).mappings():
            lines[line["case_id"]].append(
                InvoiceLine(
                    invoice_number=line["invoice_number"],
                    issue_date=line["issue_date"],
                    due_date=line["due_date"],
                    amount_due_minor=line["amount_due_minor"],
                    total_minor=line["total_minor"],
                    description=line["description"],
                )
            )
        payments: dict[str, list[DeclaredPayment]] = {i: [] for i in ids}
        if with_payments:
            for payment in (
                await self.session.execute(
                    select(declared_payments)
                    .where(declared_payments.c.case_id.in_(ids))
                    .where(declared_payments.c.reversed_on.is_(None))
                    .order_by(declared_payments.c.id)
                )
            ).mappings():
                payments[payment["case_id"]].append(
                    DeclaredPayment(
                        amount_minor=payment["amount_minor"],
                        paid_on=payment["paid_on"],
                        settles_in_full=payment["settles_in_full"],
                        declared_at=payment["declared_at"],
                        source=payment["source"],
                        receipt_id=payment["receipt_id"] or "",
                    )
                )
        return [
            Case(
                case_id=row["case_id"],
                creditor_id=row["creditor_id"],
                debtor=_debtor_of(row),
                currency=row["currency"],
                invoices=tuple(lines[row["case_id"]]),
                disputed=row["disputed"],
                notes=row["notes"],
                source=row["source"],
                status=row["status"],
                withdrawn_reason=row["withdrawn_reason"],
                payments=tuple(payments[row["case_id"]]),
                submitted_at=row["created_at"],
                round=row["round"],
                holder=_holder_of(row),
            )
            for row in rows
        ]

    async def find(self, where: CaseFilter, after: Cursor | None, limit: int) -> list[Case]:
        """Cases matching the filter, newest first, after the cursor."""
        await self.flush()
        query = select(cases)
        conditions = []
        if where.creditor_id is not None:
            conditions.append(cases.c.creditor_id == where.creditor_id)
        if where.statuses:
            conditions.append(cases.c.status.in_(where.statuses))
        if where.debtor_siren:
            conditions.append(cases.c.debtor_siren == where.debtor_siren)
        elif where.debtor_name:
            escaped = (
                where.debtor_name.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
            )
            conditions.append(cases.c.debtor_name.ilike(f"%{escaped}%", escape="\\"))
        if where.submitted_from is not None:
            conditions.append(func.date(cases.c.created_at) >= where.submitted_from)
        if where.submitted_before is not None:
            conditions.append(func.date(cases.c.created_at) <= where.submitted_before)
        if where.min_amount_minor is not None or where.max_amount_minor is not None:
            conditions.append(cases.c.currency == where.currency)
        if where.min_amount_minor is not None:
            conditions.append(cases.c.amount_minor >= where.min_amount_minor)
        if where.max_amount_minor is not None:
            conditions.append(cases.c.amount_minor <= where.max_amount_minor)
        if after is not None:
            conditions.append(
                or_(
                    cases.c.created_at < after.created_at,
                    and_(cases.c.created_at == after.created_at, cases.c.case_id < after.case_id),
                )
            )
        query = (
            query.where(*conditions)
            .order_by(cases.c.created_at.desc(), cases.c.case_id.desc())
            .limit(limit)
        )
        rows = (await self.session.execute(query)).mappings().all()
        return await self._assemble(rows, with_payments=False) if rows else []

    async def set_status(self, case_id: str, status: str, withdrawn_reason: str = "") -> None:
        """Change a case's status."""
        await self.flush()
        self._held.clear()
        await self.session.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(status=status, withdrawn_reason=withdrawn_reason)
        )

    async def add_payment(self, case_id: str, payment: DeclaredPayment) -> None:
        """Record a payment the creditor declared."""
        await self.flush()
        await self.session.execute(
            insert(declared_payments).values(
                case_id=case_id, **(asdict(payment) | {"receipt_id": payment.receipt_id or None})
            )
        )

    async def mark_scored(self, case_id: str) -> None:
        """A submitted case has been scored (later states are left alone)."""
        await self.flush()
        self._held.clear()
        await self.session.execute(_MARK_SCORED, {"scored_case": case_id})

    async def follow(self, case_id: str, life: CaseLife) -> None:
        """Record the case's status, round and holder (none but while assigned), written at
        the commit or before this repository's next statement."""
        self._followed[case_id] = life
        if case_id in self._held:  # still locked: what is held stays where the case stands
            self._held[case_id] = life


class SqlTimelines:
    """What happened to each case, from intake's own events and the other services' ones.

    Entries are kept until the unit of work commits, reads a timeline or has appended
    `WRITE_AT` of them, then written in one statement: a batch of consumed facts appends one
    entry each, and one INSERT for the batch costs far less than one per fact; an import's
    batches are written as they come, while the next one is read."""

    WRITE_AT = 500

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._unwritten: list[TimelineEntry] = []

    async def append(self, *entries: TimelineEntry) -> None:
        """Append entries (an already recorded event id is ignored); an entry without a time
        takes the database's (the transaction's start)."""
        self._unwritten.extend(entries)
        if len(self._unwritten) >= self.WRITE_AT:
            await self.flush()

    async def flush(self) -> None:
        """Write the entries appended so far, in the order they were appended."""
        if not self._unwritten:
            return
        entries, self._unwritten = self._unwritten, []
        await self.session.execute(
            _APPEND,
            {
                "case_ids": [e.case_id for e in entries],
                "times": [e.occurred_at for e in entries],
                "sources": [e.source for e in entries],
                "event_types": [e.event_type for e in entries],
                "summaries": [e.summary for e in entries],
                "event_ids": [e.event_id for e in entries],
            },
        )

    async def of_case(self, case_id: str) -> list[TimelineEntry]:
        """A case's timeline, oldest first."""
        await self.flush()
        rows = await self.session.execute(
            select(timeline).where(timeline.c.case_id == case_id).order_by(timeline.c.id)
        )
        return [
            TimelineEntry(
                case_id=r["case_id"],
                occurred_at=r["occurred_at"],
                source=r["source"],
                event_type=r["event_type"],
                summary=r["summary"],
                event_id=r["event_id"],
            )
            for r in rows.mappings()
        ]


class SqlIdempotencyRecords:
    """The first answer given under each (owner, idempotency key); the owner is a creditor, or a
    case for an internal service's change."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def remembered(self, owner: str, key: str) -> tuple[bytes, bytes | None] | None:
        """The request hash and response first stored under this key."""
        row = (
            await self.session.execute(
                select(idempotency_keys.c.request_hash, idempotency_keys.c.response).where(
                    idempotency_keys.c.creditor_id == owner, idempotency_keys.c.key == key
                )
            )
        ).first()
        return None if row is None else (row.request_hash, row.response)

    async def remembered_many(
        self, keys: Sequence[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[bytes, bytes | None]]:
        """`remembered` for many (owner, key) at once: those stored, in one statement."""
        if not keys:
            return {}
        rows = await self.session.execute(
            select(
                idempotency_keys.c.creditor_id,
                idempotency_keys.c.key,
                idempotency_keys.c.request_hash,
                idempotency_keys.c.response,
            ).where(tuple_(idempotency_keys.c.creditor_id, idempotency_keys.c.key).in_(keys))
        )
        return {(row.creditor_id, row.key): (row.request_hash, row.response) for row in rows}

    async def remember(
        self, owner: str, key: str, operation: str, request_hash: bytes, response: bytes
    ) -> None:
        """Store the first answer to an idempotency key."""
        with _claims():
            await self.session.execute(
                insert(idempotency_keys).values(
                    creditor_id=owner,
                    key=key,
                    operation=operation,
                    request_hash=request_hash,
                    response=response,
                )
            )

    async def remember_many(self, answers: Sequence[tuple[str, str, str, bytes, bytes]]) -> None:
        """`remember` for many (owner, key, operation, request hash, response), in one
        statement, in key order (as `SqlCases.add` claims invoices)."""
        if not answers:
            return
        with _claims():
            await self.session.execute(
                insert(idempotency_keys),
                [
                    {
                        "creditor_id": owner,
                        "key": key,
                        "operation": operation,
                        "request_hash": request_hash,
                        "response": response,
                    }
                    for owner, key, operation, request_hash, response in sorted(answers)
                ],
            )
