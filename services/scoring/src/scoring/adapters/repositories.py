"""Scoring's repositories over its own tables (SQLAlchemy Core, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Select,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from scoring.adapters.debtor_counts import (
    DEBTOR_COUNTS,
    DEBTOR_COUNTS_EXCLUDING,
    DEBTOR_COUNTS_MANY,
)
from scoring.adapters.orm import cases, payments, scores
from scoring.domain.cases import KnownCase, LaterPayment, Payment, PaymentTotals
from scoring.domain.facts import CaseFacts, ScoringInputs
from scoring.domain.history import CaseCounts, CountsAsked
from scoring.domain.outcomes import (
    ENDED,
    OPEN,
    UNRECOVERED,
    WITHDRAWN,
    EndedCase,
    EndedCases,
    Outcome,
)
from scoring.domain.reasons import REASON_TEXT, Reason
from scoring.domain.scorecard import Score
from scoring.domain.scores import SCORE_REQUEST, StoredScore


async def first_row(session: AsyncSession, query: Select[Any]) -> RowMapping | None:
    """The query's first row by column name, or None."""
    row: RowMapping | None = (await session.execute(query)).mappings().first()
    return row


def known_case(row: Mapping[Any, Any]) -> KnownCase:
    """A cases row as scoring's record of the case."""
    share = row["recovered_share"]
    return KnownCase(
        case_id=str(row["case_id"]),
        tenant_id=row["tenant_id"],
        facts=CaseFacts.from_dict(row["facts"]) if row["facts"] is not None else None,
        withdrawn_on=row["withdrawn_on"],
        exhausted_on=row["exhausted_on"],
        remaining_currency=row["remaining_currency"],
        remaining_minor=row["remaining_minor"],
        outcome=Outcome(row["status"], row["closed_on"], None if share is None else Decimal(share)),
    )


def counts_of_each_ask(
    asks: int, rows: Iterable[Sequence[Any]]
) -> list[tuple[CaseCounts, CaseCounts]]:
    """DEBTOR_COUNTS_MANY's rows (ask number from 1, own or not, then the counts) as each ask's
    counts, the tenant's then the others'; none counted is zero."""
    counts = [{True: CaseCounts(), False: CaseCounts()} for _ in range(asks)]
    for row in rows:
        counts[int(row[0]) - 1][bool(row[1])] = CaseCounts(*(int(v) for v in row[2:]))
    return [(c[True], c[False]) for c in counts]


class SqlCases:
    """Scoring's record of each case, in the cases table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, case_id: str) -> None:
        await self.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(case_id))))

    async def get(self, case_id: str) -> KnownCase | None:
        row = await first_row(self.session, select(cases).where(cases.c.case_id == case_id))
        return None if row is None else known_case(row)

    async def record_submission(self, case_id: str, tenant_id: str, facts: CaseFacts) -> bool:
        result = await self.session.execute(
            pg_insert(cases)
            .values(
                case_id=case_id,
                tenant_id=tenant_id,
                debtor_key=facts.debtor_siren,
                facts=facts.to_dict(),
                due_date=facts.due_date,
                status=OPEN,
            )
            .on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_={
                    "debtor_key": facts.debtor_siren,
                    "facts": facts.to_dict(),
                    "due_date": facts.due_date,
                    "updated_at": func.now(),
                },
            )
            .returning(cases.c.withdrawn_on)
        )
        return result.scalar_one() is not None

    async def record_exhaustion(
        self,
        case_id: str,
        tenant_id: str,
        exhausted_on: date,
        remaining: tuple[str, int] | None,
    ) -> None:
        currency, minor = remaining if remaining is not None else (None, None)
        values = {
            "exhausted_on": exhausted_on,
            "remaining_currency": currency,
            "remaining_minor": minor,
        }
        await self.session.execute(
            pg_insert(cases)
            .values(case_id=case_id, tenant_id=tenant_id, status=UNRECOVERED, **values)
            .on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_=values | {"updated_at": func.now()},
                # Matching exhausts a case once; a redelivery changes nothing.
                where=cases.c.exhausted_on.is_(None),
            )
        )

    async def record_withdrawal(self, case_id: str, tenant_id: str, withdrawn_on: date) -> None:
        await self.session.execute(
            pg_insert(cases)
            .values(
                case_id=case_id, tenant_id=tenant_id, status=WITHDRAWN, withdrawn_on=withdrawn_on
            )
            .on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_={
                    "withdrawn_on": func.coalesce(cases.c.withdrawn_on, withdrawn_on),
                    "updated_at": func.now(),
                },
            )
        )

    async def set_outcome(self, case_id: str, outcome: Outcome) -> None:
        await self.session.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(
                status=outcome.status,
                closed_on=outcome.ended_on,
                recovered_share=outcome.recovered_share,
                updated_at=func.now(),
            )
        )

    async def debtor_counts(
        self, siren: str, tenant_id: str, excluding: str | None, unpaid_if_due_before: date
    ) -> tuple[CaseCounts, CaseCounts]:
        query = DEBTOR_COUNTS if excluding is None else DEBTOR_COUNTS_EXCLUDING
        parameters = {"siren": siren, "tenant_id": tenant_id, "due_before": unpaid_if_due_before}
        if excluding is not None:
            parameters["excluding"] = excluding
        counts = {True: CaseCounts(), False: CaseCounts()}
        for row in (await self.session.execute(query, parameters)).all():
            counts[bool(row[0])] = CaseCounts(*(int(value) for value in row[1:]))
        return counts[True], counts[False]

    async def debtor_counts_many(
        self, asked: Sequence[CountsAsked]
    ) -> list[tuple[CaseCounts, CaseCounts]]:
        if not asked:
            return []
        parameters = {
            "sirens": [a.siren for a in asked],
            "tenants": [a.tenant_id for a in asked],
            "excluding": [a.excluding for a in asked],
            "due_before": [a.unpaid_if_due_before for a in asked],
        }
        rows = (await self.session.execute(DEBTOR_COUNTS_MANY, parameters)).all()
        return counts_of_each_ask(len(asked), rows)


class SqlPayments:
    """Payments on cases, in the payments table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, payment: Payment) -> bool:
        result = await self.session.execute(
            pg_insert(payments)
            .values(
                event_id=payment.event_id,
                payment_key=payment.payment_key,
                source=payment.source,
                case_id=payment.case_id,
                currency=payment.currency,
                amount_minor=payment.amount_minor,
                paid_on=payment.paid_on,
                settles_in_full=payment.settles_in_full,
            )
            .on_conflict_do_nothing()
            .returning(payments.c.event_id)
        )
        return result.first() is not None

    async def totals(
        self, case_id: str, currency: str | None, paid_by: date | None = None
    ) -> PaymentTotals:
        query = select(
            func.coalesce(func.sum(payments.c.amount_minor), 0),
            func.coalesce(func.bool_or(payments.c.settles_in_full), False),
            func.max(payments.c.paid_on),
        ).where(payments.c.case_id == case_id)
        if currency is not None:
            query = query.where(payments.c.currency == currency)
        if paid_by is not None:
            query = query.where(payments.c.paid_on <= paid_by)
        row = (await self.session.execute(query)).one()
        return PaymentTotals(int(row[0]), bool(row[1]), row[2])

    async def last_after(self, case_id: str, currency: str, day: date) -> LaterPayment | None:
        row = (
            await self.session.execute(
                select(payments.c.event_id, payments.c.source, payments.c.paid_on)
                .where(
                    payments.c.case_id == case_id,
                    payments.c.currency == currency,
                    payments.c.paid_on > day,
                )
                .order_by(payments.c.paid_on.desc(), payments.c.recorded_at.desc())
                .limit(1)
            )
        ).first()
        return None if row is None else LaterPayment(str(row[0]), str(row[1]), row[2])


def stored_inputs(raw: Mapping[str, Any]) -> ScoringInputs | None:
    """The inputs kept with a score; None for scorecard-v0 rows, which kept only a few facts."""
    return ScoringInputs.from_dict(dict(raw)) if "case" in raw else None


def stored_score(row: RowMapping) -> StoredScore:
    """A scores row as a StoredScore."""
    return StoredScore(
        score_id=str(row["score_id"]),
        case_id=row["case_id"],
        tenant_id=row["tenant_id"],
        as_of=row["as_of"],
        trigger=row["trigger"],
        inputs=stored_inputs(row["inputs"]),
        score=Score(
            trustscore=row["trustscore"],
            recovery_probability=Decimal(row["recovery_probability"]),
            expected_days_to_recover=row["expected_days_to_recover"] or 0,
            segment=row["segment"],
            strategy=row["strategy"],
            reasons=tuple(
                Reason(code=r["code"], text=r["text"], weight=float(r["weight"]))
                for r in row["reasons"]
            )
            # scorecard-v0 rows kept only their codes.
            or tuple(Reason(c, REASON_TEXT.get(c, ""), 0.0) for c in row["reason_codes"]),
            model_version=row["model_version"],
            debtor_insolvent=row["debtor_insolvent"],
            features=row["features"],
        ),
    )


def score_row(stored: StoredScore, trigger_event_id: str) -> dict[str, Any]:
    """A score as its row of the scores table."""
    result, inputs = stored.score, stored.inputs
    return {
        "score_id": stored.score_id,
        "case_id": stored.case_id,
        "tenant_id": stored.tenant_id,
        "trigger_event_id": trigger_event_id,
        "trigger": stored.trigger,
        "as_of": stored.as_of,
        "inputs": inputs.to_dict() if inputs is not None else {},
        "features": dict(result.features),
        "trustscore": result.trustscore,
        "recovery_probability": result.recovery_probability,
        "expected_days_to_recover": result.expected_days_to_recover,
        "segment": result.segment,
        "strategy": result.strategy,
        "debtor_insolvent": result.debtor_insolvent,
        "reason_codes": list(result.reason_codes),
        "reasons": [{"code": r.code, "text": r.text, "weight": r.weight} for r in result.reasons],
        "model_version": result.model_version,
    }


# The columns score_row fills.
SCORE_COLUMNS = (
    "score_id",
    "case_id",
    "tenant_id",
    "trigger_event_id",
    "trigger",
    "as_of",
    "inputs",
    "features",
    "trustscore",
    "recovery_probability",
    "expected_days_to_recover",
    "segment",
    "strategy",
    "debtor_insolvent",
    "reason_codes",
    "reasons",
    "model_version",
)


class SqlScores:
    """Every score ever given, in the scores table."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, stored: StoredScore, trigger_event_id: str) -> None:
        await self.add_many([(stored, trigger_event_id)])

    async def add_many(self, stored: Sequence[tuple[StoredScore, str]]) -> None:
        if stored:
            # One statement text whatever the count: executemany sends the rows in one go.
            await self.session.execute(insert(scores), [score_row(s, e) for s, e in stored])

    async def get(self, score_id: str) -> StoredScore | None:
        row = await first_row(self.session, select(scores).where(scores.c.score_id == score_id))
        return None if row is None else stored_score(row)

    async def latest_of_record(self, case_id: str) -> StoredScore | None:
        row = await first_row(
            self.session,
            select(scores)
            .where(scores.c.case_id == case_id, scores.c.trigger != SCORE_REQUEST)
            .order_by(scores.c.id.desc())
            .limit(1),
        )
        return None if row is None else stored_score(row)

    async def first_of_ended_cases(self) -> EndedCases:
        """The first score of record is the oldest one made because of an event.

        A case whose first score predates stored inputs (scorecard-v0) is counted, not used: a
        later score would describe the case later in its life than the others.
        """
        first = (
            select(
                scores.c.case_id,
                scores.c.as_of,
                scores.c.inputs,
                cases.c.status,
                cases.c.closed_on,
            )
            .join(cases, cases.c.case_id == scores.c.case_id)
            .where(cases.c.status.in_(ENDED), scores.c.trigger != SCORE_REQUEST)
            .order_by(scores.c.case_id, scores.c.id)
            .ext(distinct_on(scores.c.case_id))
        )
        usable: list[EndedCase] = []
        without_inputs = 0
        for row in (await self.session.execute(first)).mappings():
            inputs = stored_inputs(row["inputs"])
            if inputs is None:
                without_inputs += 1
                continue
            usable.append(
                EndedCase(
                    case_id=str(row["case_id"]),
                    status=row["status"],
                    ended_on=row["closed_on"],
                    scored_on=row["as_of"],
                    inputs=inputs,
                )
            )
        return EndedCases(usable, without_inputs)
