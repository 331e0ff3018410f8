"""SQL for cases: their facts before the auction, their matching, their timers and actions."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import (
    ColumnElement,
    DateTime,
    String,
    Text,
    bindparam,
    cast,
    column,
    delete,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy import case as sql_case
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from matching.adapters.orm import (
    awaiting_provider,
    case_actions,
    case_facts,
    case_matchings,
    timers,
)
from matching.domain import events
from matching.domain.case_facts import BeforeAuction, EarlyPayment, ScoredFacts, SubmittedFacts
from matching.domain.case_matching import CaseMatching
from matching.domain.providers import Provider
from matching.domain.status import HELD, Status
from matching.service_layer.unit_of_work import ClaimedTimer
from recouvra_shared.tracing import origin_traceparent

_STATE = TypeAdapter(CaseMatching)
_TRANSIENT = {"pending", "outcomes", "released"}  # handed on by the use case, never stored
_UNKNOWN: Any = object()  # a case this unit of work did not load
_HELD = [s.value for s in HELD]


def _save_case() -> Any:
    """Store a case's matching: one statement built once, its state handed over as JSON text
    (serialised by pydantic in one pass, not dumped to dicts and then encoded again)."""
    columns = ("case_id", "creditor_id", "status", "round", "holder_provider_id", "updated_at")
    values: dict[str, Any] = {name: bindparam(name) for name in columns}
    values["state"] = cast(bindparam("state", type_=Text), JSONB)
    stored = insert(case_matchings).values(**values)
    return stored.on_conflict_do_update(
        index_elements=[case_matchings.c.case_id],
        set_={name: stored.excluded[name] for name in (*columns[1:], "state")},
    )


def _arm_timer() -> Any:
    armed = insert(timers).values(
        case_id=bindparam("case_id"), due_at=bindparam("due_at"), armed_by=bindparam("armed_by")
    )
    return armed.on_conflict_do_update(
        index_elements=[timers.c.case_id],
        set_={"due_at": armed.excluded.due_at, "armed_by": armed.excluded.armed_by},
    )


_SAVE_CASE = _save_case()
_ARM_TIMER = _arm_timer()
# A case's matching read locked; and many cases' at once, in case id order (`hold`).
_LOCKED = (
    select(case_matchings.c.state)
    .where(case_matchings.c.case_id == bindparam("case_id"))
    .with_for_update()
)
_MANY_LOCKED = (
    select(case_matchings.c.case_id, case_matchings.c.state)
    .where(case_matchings.c.case_id == func.any(bindparam("case_ids", type_=ARRAY(String))))
    .order_by(case_matchings.c.case_id)
    .with_for_update()
)


@dataclass(frozen=True)
class _Stored:
    """What this unit of work knows is stored of a case it loaded locked: who holds it (when
    its status is a held one) and whether it is listed as waiting for a provider."""

    holder: str | None
    awaiting: bool


def _stored(matching: CaseMatching) -> _Stored:
    return _Stored(
        matching.holder if matching.status in HELD else None, matching.awaiting is not None
    )


class SqlCaseMatchings:
    """Case matchings stored as JSON state, with the columns the queries filter on.

    It remembers, for the length of its unit of work, what it loaded locked (or found missing
    while the case's facts were locked), so that a save writes only what changed: a case new to
    matching has no timer or waiting-list row to delete. The holdings count is read once and
    kept up to date with this unit of work's own saves, for whoever may reuse it.

    Saves are written together: a case's row and its timer are kept (the last save of a case
    wins) and written in one statement each for all the cases saved, before anything reads
    these tables and before the commit (`flush`). A case saved in this unit of work is read
    back from what was saved; it is locked by it, or new under its facts' lock.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._stored: dict[str, _Stored | None] = {}
        self._locked: dict[str, CaseMatching | None] = {}  # read by `hold`, not yet handed out
        self._held: dict[str, int] | None = None
        self._unwritten: dict[str, dict[str, Any]] = {}  # case id -> its row
        self._timers: dict[str, tuple[datetime, str | None] | None] = {}  # None: delete

    async def flush(self) -> None:
        """Write the saved cases and their timers (before a read of them, and the commit)."""
        if self._unwritten:
            rows, self._unwritten = list(self._unwritten.values()), {}
            await self.session.execute(_SAVE_CASE, rows)
        if self._timers:
            timers_, self._timers = self._timers, {}
            armed = [
                {"case_id": case_id, "due_at": due[0], "armed_by": due[1]}
                for case_id, due in timers_.items()
                if due is not None
            ]
            disarmed = [case_id for case_id, due in timers_.items() if due is None]
            if armed:
                await self.session.execute(_ARM_TIMER, armed)
            if disarmed:
                await self.session.execute(delete(timers).where(timers.c.case_id.in_(disarmed)))

    async def get(self, case_id: str) -> CaseMatching | None:
        """A case's matching, locked until the unit of work ends."""
        if (saved := self._unwritten.get(case_id)) is not None:
            return _STATE.validate_json(saved["state"])
        if case_id in self._locked:  # held: read locked once, handed out once
            return self._locked.pop(case_id)
        row = (await self.session.execute(_LOCKED, {"case_id": case_id})).first()
        if row is None:
            self._stored[case_id] = None
            return None
        matching = _STATE.validate_python(row.state)
        self._stored[case_id] = _stored(matching)
        return matching

    async def hold(self, case_ids: Sequence[str]) -> None:
        """Lock these cases' matchings until the unit of work ends, in one statement and in case
        id order, and keep what each was (or that it has none yet) for its `get`."""
        asked = sorted(set(case_ids) - self._locked.keys() - self._unwritten.keys())
        if not asked:
            return
        await self.flush()
        found = {
            row.case_id: _STATE.validate_python(row.state)
            for row in await self.session.execute(_MANY_LOCKED, {"case_ids": asked})
        }
        for case_id in asked:
            matching = found.get(case_id)
            self._locked[case_id] = matching
            self._stored[case_id] = None if matching is None else _stored(matching)

    async def save(self, matching: CaseMatching, now: datetime) -> None:
        """Store a case's matching and (re)arm its timer at its next deadline."""
        self._unwritten[matching.case.case_id] = {
            "case_id": matching.case.case_id,
            "creditor_id": matching.case.creditor_id,
            "status": matching.status.value,
            "round": matching.round,
            "holder_provider_id": matching.holder,
            "state": _STATE.dump_json(matching, exclude=_TRANSIENT).decode(),
            "updated_at": now,
        }
        case_id = matching.case.case_id
        self._locked.pop(case_id, None)  # what was held is no longer what is stored
        # Missing when loaded (under its facts' lock, the only way a case is first stored): no
        # timer and no waiting-list row can exist yet. Not loaded at all: unknown, so written.
        known = case_id in self._stored
        before = self._stored.get(case_id)
        now_stored = _stored(matching)
        self._stored[case_id] = now_stored
        self._count_holding(before if known else _UNKNOWN, now_stored)
        deadline = matching.next_deadline()
        if deadline is None:
            if not known or before is not None or case_id in self._timers:
                self._timers[case_id] = None
        else:
            self._timers[case_id] = (deadline, origin_traceparent())
        if matching.awaiting is not None or not known or (before is not None and before.awaiting):
            await self._keep_awaiting(matching)

    def _count_holding(self, before: _Stored | None, after: _Stored) -> None:
        """Keep the holdings read earlier in this unit of work up to date with a save."""
        if self._held is None or before == after:
            return
        if before is _UNKNOWN:
            self._held = None  # what it was stored as is unknown: read again when asked
            return
        if before is not None and before.holder:
            self._held[before.holder] = self._held.get(before.holder, 0) - 1
        if after.holder:
            self._held[after.holder] = self._held.get(after.holder, 0) + 1

    async def _keep_awaiting(self, matching: CaseMatching) -> None:
        """A waiting case is listed with what a provider must cover; any other case is not."""
        case = matching.case
        if matching.awaiting is None:
            await self.session.execute(
                delete(awaiting_provider).where(awaiting_provider.c.case_id == case.case_id)
            )
            return
        await self.session.execute(
            insert(awaiting_provider)
            .values(
                case_id=case.case_id,
                creditor_id=case.creditor_id,
                since=matching.awaiting.since,
                amount_minor=case.amount_minor,
                debtor_is_business=case.debtor_is_business,
                region=case.region,
            )
            .on_conflict_do_nothing(index_elements=[awaiting_provider.c.case_id])
        )

    async def wake_awaiting_for(self, provider: Provider, now: datetime) -> None:
        """Arm, due now, the timer of each case waiting for a provider that this one may cover."""
        debtor_types = [
            business
            for business, served in (
                (True, provider.serves_business),
                (False, provider.serves_consumer),
            )
            if served
        ]
        region = awaiting_provider.c.region
        # Provider.may_cover in SQL: an unknown region matches all; "FR" serves "FR-IDF".
        serves_region: list[ColumnElement[bool]] = [region == "", region.in_(provider.regions)]
        serves_region += [region.like(f"{r}-%") for r in provider.regions]
        await self._wake(
            awaiting_provider.c.debtor_is_business.in_(debtor_types),
            awaiting_provider.c.amount_minor.between(
                provider.min_amount_minor, provider.max_amount_minor
            ),
            or_(*serves_region),
            now=now,
        )

    async def wake_awaiting_of(self, creditor_id: str, now: datetime) -> None:
        """Arm, due now, the timer of each of this creditor's cases waiting for a provider."""
        await self._wake(awaiting_provider.c.creditor_id == creditor_id, now=now)

    async def _wake(self, *where: ColumnElement[bool], now: datetime) -> None:
        await self.flush()
        due_now = literal(now, DateTime(timezone=True)).label("due_at")
        armed_by = literal(origin_traceparent(), String(55)).label("armed_by")
        waiting = select(awaiting_provider.c.case_id, due_now, armed_by).where(*where)
        arm = insert(timers).from_select(["case_id", "due_at", "armed_by"], waiting)
        await self.session.execute(
            arm.on_conflict_do_update(
                index_elements=[timers.c.case_id],
                set_={
                    "due_at": func.least(timers.c.due_at, arm.excluded.due_at),
                    # The work that makes it due first is the one it answers.
                    "armed_by": sql_case(
                        (arm.excluded.due_at < timers.c.due_at, arm.excluded.armed_by),
                        else_=timers.c.armed_by,
                    ),
                },
            )
        )

    async def held_by(self, provider_id: str) -> list[CaseMatching]:
        """The cases a provider holds or is being asked to accept."""
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(
                case_matchings.c.holder_provider_id == provider_id,
                case_matchings.c.status.in_(_HELD),
            )
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def of_creditor(self, creditor_id: str, limit: int) -> list[CaseMatching]:
        """A creditor's cases' matchings, unlocked, at most `limit`, by case id."""
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(case_matchings.c.creditor_id == creditor_id)
            .order_by(case_matchings.c.case_id)
            .limit(limit)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def held_counts(self, *, reuse: bool = False) -> dict[str, int]:
        """How many cases each provider holds or is being offered right now.

        With `reuse`, the counts this unit of work read before, kept up to date with its own
        saves, will do (no other transaction's change since is seen); without, they are read
        afresh (as a capacity check under a provider's lock must)."""
        if reuse and self._held is not None:
            return dict(self._held)
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.holder_provider_id, func.count())
            .where(case_matchings.c.status.in_(_HELD))
            .group_by(case_matchings.c.holder_provider_id)
        )
        self._held = {provider_id: count for provider_id, count in rows if provider_id}
        return dict(self._held)

    async def open_auction_keys(self) -> set[tuple[str, int]]:
        """(case id, round) of every case in a bidding round, without loading their state."""
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.case_id, case_matchings.c.round).where(
                case_matchings.c.status == Status.BIDDING.value
            )
        )
        return {(r.case_id, r.round) for r in rows}

    async def unlocked(self, case_ids: Iterable[str]) -> list[CaseMatching]:
        """Some cases' matchings, unlocked, by case id."""
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(case_matchings.c.case_id.in_(list(case_ids)))
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]

    async def open_auctions(self) -> list[CaseMatching]:
        """Every case in a bidding round."""
        await self.flush()
        rows = await self.session.execute(
            select(case_matchings.c.state)
            .where(case_matchings.c.status == Status.BIDDING.value)
            .order_by(case_matchings.c.case_id)
        )
        return [_STATE.validate_python(r.state) for r in rows]


def _submitted(stored: dict[str, Any]) -> SubmittedFacts:
    return SubmittedFacts(
        creditor_id=stored["creditor_id"],
        currency=stored["currency"],
        amount_minor=stored["amount_minor"],
        debtor_is_business=stored["debtor_is_business"],
        due_date=stored["due_date"],
        region=stored.get("region", ""),
    )


def _scored(stored: dict[str, Any]) -> ScoredFacts:
    return ScoredFacts(
        segment=stored["segment"],
        strategy=stored["strategy"],
        trustscore=stored["trustscore"],
        recovery_probability=stored["recovery_probability"],
        reason_codes=tuple(stored["reason_codes"]),
        debtor_insolvent=stored["debtor_insolvent"],
    )


def _before_auction(stored: dict[str, Any] | None) -> BeforeAuction:
    if not stored:
        return BeforeAuction()
    return BeforeAuction(
        withdrawn=stored["withdrawn"],
        payments=tuple(
            EarlyPayment(
                payment_id=p["payment_id"],
                amount_minor=p["amount_minor"],
                paid_on=date.fromisoformat(p["paid_on"]),
                settles_in_full=p["settles_in_full"],
            )
            for p in stored["payments"]
        ),
    )


def _stored_before_auction(before: BeforeAuction) -> dict[str, Any]:
    return {
        "withdrawn": before.withdrawn,
        "payments": [{**asdict(p), "paid_on": p.paid_on.isoformat()} for p in before.payments],
    }


class SqlCaseFacts:
    """Case facts arrive from two topics in any order, stored as JSON per topic.

    A case's row, once read locked or written here, is kept for the length of the unit of work
    (it is locked until then, so nobody else changes it): storing a fact and reading them all
    back is one statement, not three.
    """

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._rows: dict[str, Any] = {}
        # What the last statement that wrote a case's row stored (kind, creditor, facts): a save
        # of the very same is not sent again (`save_all_*` stored it ahead of the handlers).
        self._saved: dict[str, tuple[str, str, dict[str, Any]]] = {}

    async def _row(self, case_id: str) -> Any:
        """The case's row, locked until commit (None when there is none)."""
        if case_id not in self._rows:
            self._rows[case_id] = (
                await self.session.execute(
                    select(case_facts).where(case_facts.c.case_id == case_id).with_for_update()
                )
            ).first()
        return self._rows[case_id]

    async def facts(self, case_id: str) -> tuple[SubmittedFacts | None, ScoredFacts | None]:
        """What case-submitted and case-scored said of a case (locked until commit)."""
        row = await self._row(case_id)
        if row is None:
            return None, None
        return (
            None if row.submitted is None else _submitted(row.submitted),
            None if row.scored is None else _scored(row.scored),
        )

    async def before_auction(self, case_id: str) -> BeforeAuction:
        """What happened to a case before its auction opened (locked until commit)."""
        row = await self._row(case_id)
        return _before_auction(None if row is None else row.before_auction)

    async def save_submitted(self, case_id: str, creditor_id: str, facts: SubmittedFacts) -> None:
        """Store what case-submitted said."""
        await self._save(case_id, creditor_id, "submitted", asdict(facts))

    async def save_scored(self, case_id: str, creditor_id: str, facts: ScoredFacts) -> None:
        """Store what case-scored said."""
        await self._save(case_id, creditor_id, "scored", _scored_json(facts))

    async def save_all_submitted(self, facts: Sequence[tuple[str, str, SubmittedFacts]]) -> None:
        """Store what many case-submitted said, (case id, creditor id, facts) each, in one
        statement that locks their cases in case id order (the last of a case's wins)."""
        await self._save_all("submitted", [(c, cr, asdict(f)) for c, cr, f in facts])

    async def save_all_scored(self, facts: Sequence[tuple[str, str, ScoredFacts]]) -> None:
        """Store what many case-scored said, as `save_all_submitted` does."""
        await self._save_all("scored", [(c, cr, _scored_json(f)) for c, cr, f in facts])

    async def save_before_auction(
        self, case_id: str, creditor_id: str, before: BeforeAuction
    ) -> None:
        """Store what happened to a case before its auction opened."""
        await self._save(case_id, creditor_id, "before_auction", _stored_before_auction(before))

    async def _save(self, case_id: str, creditor_id: str, kind: str, facts: dict[str, Any]) -> None:
        if self._saved.get(case_id) == (kind, creditor_id, facts):
            return
        self._rows[case_id] = (
            await self.session.execute(
                _SAVE_FACT[kind], {"case_id": case_id, "creditor_id": creditor_id, kind: facts}
            )
        ).first()
        self._saved[case_id] = (kind, creditor_id, facts)

    async def _save_all(self, kind: str, facts: list[tuple[str, str, dict[str, Any]]]) -> None:
        if not facts:
            return
        last = {case_id: (creditor_id, fact) for case_id, creditor_id, fact in facts}
        ids = sorted(last)
        rows = await self.session.execute(
            _SAVE_FACTS[kind],
            {
                "case_ids": ids,
                "creditor_ids": [last[case_id][0] for case_id in ids],
                "facts": [json.dumps(last[case_id][1]) for case_id in ids],
            },
        )
        for row in rows:
            self._rows[row.case_id] = row
        self._saved.update((case_id, (kind, *last[case_id])) for case_id in ids)


def _scored_json(facts: ScoredFacts) -> dict[str, Any]:
    return {**asdict(facts), "reason_codes": list(facts.reason_codes)}


def _save_fact(kind: str) -> Any:
    """Store one kind of fact, returning the whole row: a statement built once per kind."""
    stored = insert(case_facts).values(
        case_id=bindparam("case_id"),
        creditor_id=bindparam("creditor_id"),
        **{kind: bindparam(kind)},
    )
    # A score names the creditor only by the envelope's tenant: the submission's name stays.
    update = [kind] if kind == "scored" else [kind, "creditor_id"]
    return stored.on_conflict_do_update(
        index_elements=[case_facts.c.case_id],
        set_={name: stored.excluded[name] for name in update},
    ).returning(*case_facts.c)


def _save_facts(kind: str) -> Any:
    """Store one kind of fact for many cases, in case id order, returning each whole row: one
    array per column, unnested into rows."""
    given = (
        func.unnest(
            bindparam("case_ids", type_=ARRAY(String)),
            bindparam("creditor_ids", type_=ARRAY(String)),
            bindparam("facts", type_=ARRAY(Text)),
        )
        .table_valued(column("case_id", String), column("creditor_id", String), column("facts"))
        .render_derived(name="given")
    )
    stored = insert(case_facts).from_select(
        ["case_id", "creditor_id", kind],
        select(given.c.case_id, given.c.creditor_id, cast(given.c.facts, JSONB)).order_by(
            given.c.case_id
        ),
    )
    update = [kind] if kind == "scored" else [kind, "creditor_id"]
    return stored.on_conflict_do_update(
        index_elements=[case_facts.c.case_id],
        set_={name: stored.excluded[name] for name in update},
    ).returning(*case_facts.c)


_SAVE_FACT = {kind: _save_fact(kind) for kind in ("submitted", "scored", "before_auction")}
_SAVE_FACTS = {kind: _save_facts(kind) for kind in ("submitted", "scored")}


class SqlTimers:
    """The durable scheduler's table: one due time per case. `before_read` writes what the
    unit of work's cases repository has kept unwritten (their timers among it)."""

    def __init__(
        self, session: AsyncSession, before_read: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self.session = session
        self.before_read = before_read

    async def due(self, now: datetime, limit: int) -> list[str]:
        """Cases whose timer has passed, oldest first."""
        if self.before_read is not None:
            await self.before_read()
        rows = await self.session.execute(
            select(timers.c.case_id)
            .where(timers.c.due_at <= now)
            .order_by(timers.c.due_at)
            .limit(limit)
        )
        return [r.case_id for r in rows]

    async def claim(self, case_id: str, now: datetime) -> ClaimedTimer | None:
        """Lock a due timer so that one worker fires it; None when gone, not due or taken."""
        if self.before_read is not None:
            await self.before_read()
        row = (
            await self.session.execute(
                select(timers.c.armed_by)
                .where(timers.c.case_id == case_id, timers.c.due_at <= now)
                .with_for_update(skip_locked=True)
            )
        ).first()
        return None if row is None else ClaimedTimer(row.armed_by)


class SqlCaseActions:
    """Reported actions, one row each."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, action: events.ActionReported, reported_at: datetime) -> None:
        """Keep a reported action for the creditor's view of the case."""
        await self.session.execute(
            insert(case_actions).values(
                action_id=action.action_id,
                case_id=action.case_id,
                round=action.round,
                provider_id=action.provider_id,
                kind=action.kind,
                occurred_at=action.occurred_at,
                note=action.note,
                promised_amount_minor=action.promised_amount_minor,
                promised_on=action.promised_on,
                reported_at=reported_at,
            )
        )

    async def of_case(self, case_id: str) -> list[events.ActionReported]:
        """Every action reported on a case, in the order they happened."""
        rows = await self.session.execute(
            select(case_actions)
            .where(case_actions.c.case_id == case_id)
            .order_by(case_actions.c.occurred_at, case_actions.c.reported_at)
        )
        return [
            events.ActionReported(
                r.case_id,
                r.round,
                r.provider_id,
                r.action_id,
                r.kind,
                r.occurred_at,
                r.note,
                r.promised_amount_minor,
                r.promised_on,
            )
            for r in rows
        ]
