"""Scoring's use cases: plain functions of (message, unit of work) over wired dependencies."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from google.protobuf.message import Message
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from stdnum.fr import siren as siren_number

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import UnitOfWork
from recouvra_shared.events import new_event
from scoring.adapters.model_store import FileModelStore
from scoring.adapters.orm import cases, payments, scores
from scoring.adapters.registry import CompanyRegistry
from scoring.domain.errors import ScoringStopped
from scoring.domain.facts import CaseFacts, DebtorHistory, ScoringInputs
from scoring.domain.outcomes import (
    OPEN,
    RECOVERED,
    UNRECOVERED,
    WITHDRAWN,
    CaseRecord,
    Outcome,
    outcome_of,
)
from scoring.domain.scorecard import REASON_TEXT, Reason, Score, score

log = logging.getLogger(__name__)

SERVICE = "scoring"
CASE_SCORED = ("case-scored", 1)
SCORE_REQUEST = "score-request"
# Another case of the debtor counts as unpaid once it is this far overdue and still open.
UNPAID_AFTER_DAYS = 60
MIN_OTHER_CREDITOR_CASES = 2


@dataclass(frozen=True)
class StoredScore:
    """A score as stored: who it belongs to, what made it and when."""

    score_id: str
    case_id: str | None
    tenant_id: str
    as_of: date
    trigger: str
    score: Score
    inputs: ScoringInputs | None  # None for scorecard-v0 rows, stored before inputs were kept
    scoring_stopped: bool = False


def optional_field(message: Message, name: str) -> Any:
    """A payload field that newer producers may send and older ones do not."""
    return getattr(message, name) if name in message.DESCRIPTOR.fields_by_name else None


def debtor_siren_of(raw: object) -> str | None:
    """A valid SIREN (from a SIREN or SIRET), or None: a wrong number identifies nobody."""
    if not isinstance(raw, str) or not raw.strip():
        return None
    number = siren_number.compact(raw)[:9]
    return number if siren_number.is_valid(number) else None


def facts_from_submitted(submitted: CaseSubmitted, paid_minor: int = 0) -> CaseFacts:
    """The case's facts as intake announced them."""
    invoice_count = optional_field(submitted, "invoice_count") or 1
    return CaseFacts(
        amount_minor=submitted.amount.minor_units,
        currency=submitted.amount.currency or "EUR",
        paid_minor=paid_minor,
        due_date=date.fromisoformat(submitted.due_date),
        issue_date=date.fromisoformat(submitted.issue_date) if submitted.issue_date else None,
        debtor_is_business=submitted.debtor_is_business,
        disputed=submitted.disputed,
        invoice_count=max(1, int(invoice_count)),
        debtor_siren=debtor_siren_of(optional_field(submitted, "debtor_siren")),
    )


class ScoringHandlers:
    """Scoring's handlers, bound to the company registry and the model store."""

    def __init__(self, registry: CompanyRegistry, models: FileModelStore) -> None:
        self.registry = registry
        self.models = models

    async def inputs_for(
        self,
        facts: CaseFacts,
        case_id: str | None,
        tenant_id: str,
        as_of: date,
        uow: UnitOfWork,
    ) -> ScoringInputs:
        """Add company facts and the debtor's aggregated history to a case's facts."""
        company = await self.registry.lookup(facts.debtor_siren) if facts.debtor_siren else None
        history = (
            await debtor_history(facts.debtor_siren, case_id, tenant_id, as_of, uow)
            if facts.debtor_siren
            else DebtorHistory()
        )
        return ScoringInputs(case=facts, company=company, history=history)

    async def on_case_submitted(
        self, submitted: CaseSubmitted, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Score a newly submitted case as of the day it was submitted, store it, announce it."""
        case_id, as_of = submitted.case_id, envelope.occurred_at.ToDatetime().date()
        await lock_case(uow, case_id)
        facts = facts_from_submitted(submitted)
        withdrawn = await upsert_case(uow, case_id, envelope.tenant_id, facts)
        outcome = await refresh_outcome(uow, case_id)
        if withdrawn:
            log.info("case %s was withdrawn before it was scored: not scoring it", case_id)
            return
        # The first score of record knows only the payments made by its day, whatever order
        # their events came in: training learns from it, so nothing later may leak into it.
        paid, settled, _ = await case_payments(case_id, facts.currency, uow, paid_by=as_of)
        if settled or paid >= facts.amount_minor:
            return  # recovered before it was submitted: nothing to score
        facts = facts_from_submitted(submitted, paid_minor=paid)
        inputs = await self.inputs_for(facts, case_id, envelope.tenant_id, as_of, uow)
        await self.record_and_publish(envelope, uow, inputs, as_of, "case-submitted")
        later = await last_payment_after(case_id, facts.currency, as_of, uow)
        if later is None or outcome.status != OPEN:
            return
        # Payments told before the submission re-score it now, as their own events would have.
        event_id, source, paid_on = later
        paid, _, _ = await case_payments(case_id, facts.currency, uow)
        facts = facts_from_submitted(submitted, paid_minor=paid)
        inputs = await self.inputs_for(facts, case_id, envelope.tenant_id, paid_on, uow)
        await self.record_and_publish(
            envelope,
            uow,
            inputs,
            paid_on,
            "payment-declared" if source == "creditor" else "payment-attributed",
            trigger_event_id=event_id,
        )

    async def on_payment_declared(
        self, payment: PaymentDeclared, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Re-score a case after a partial payment; a full payment closes it as recovered."""
        case_id = payment.case_id
        paid_on = date.fromisoformat(payment.paid_on)
        await lock_case(uow, case_id)
        await record_payment(
            uow,
            envelope,
            payment_key=envelope.event_id,
            source="creditor",
            case_id=case_id,
            amount=(payment.amount.currency, payment.amount.minor_units),
            paid_on=paid_on,
            settles_in_full=payment.settles_in_full,
        )
        await self.after_payment(envelope, uow, case_id, payment.amount.currency, paid_on)

    async def on_payment_attributed(
        self, payment: PaymentAttributed, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Count a payment matching credited to a provider; it may recover the case in full.

        A provider's payment is seen nowhere else and re-scores the case like a declared one.
        A creditor's payment carries the event id of its declaration as payment id, so it is
        stored once whichever topic tells us first, and only its declaration re-scores.
        """
        case_id = payment.case_id
        try:
            paid_on = date.fromisoformat(payment.paid_on)
        except ValueError:
            paid_on = envelope.occurred_at.ToDatetime().date()
        await lock_case(uow, case_id)
        new = await record_payment(
            uow,
            envelope,
            payment_key=payment.payment_id or envelope.event_id,
            source=payment.source or "provider",
            case_id=case_id,
            amount=(payment.amount.currency, payment.amount.minor_units),
            paid_on=paid_on,
            settles_in_full=payment.settles_in_full,
        )
        if not new or payment.source == "creditor":
            await refresh_outcome(uow, case_id)
            return
        await self.after_payment(
            envelope, uow, case_id, payment.amount.currency, paid_on, "payment-attributed"
        )

    async def after_payment(
        self,
        envelope: EventEnvelope,
        uow: UnitOfWork,
        case_id: str,
        currency: str,
        paid_on: date,
        trigger: str = "payment-declared",
    ) -> None:
        """Close the case when paid in full; otherwise re-score it with what is now paid."""
        outcome = await refresh_outcome(uow, case_id)
        row = (
            (await uow.session.execute(select(cases).where(cases.c.case_id == case_id)))
            .mappings()
            .first()
        )
        if row is None or row["facts"] is None or outcome.status != OPEN:
            return  # not submitted yet (its submission counts this payment) or no longer scored
        submitted = CaseFacts.from_dict(row["facts"])
        if currency != submitted.currency:
            log.warning(
                "payment on %s in %s, case in %s: not re-scored",
                case_id,
                currency,
                submitted.currency,
            )
            return
        paid, _, _ = await case_payments(case_id, submitted.currency, uow)
        as_of = max(paid_on, envelope.occurred_at.ToDatetime().date())
        facts = CaseFacts.from_dict(submitted.to_dict() | {"paid_minor": paid})
        inputs = await self.inputs_for(facts, case_id, envelope.tenant_id, as_of, uow)
        await self.record_and_publish(envelope, uow, inputs, as_of, trigger)

    async def on_case_exhausted(
        self, exhausted: CaseExhausted, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """Matching ran three rounds without full recovery: the case ended unrecovered."""
        case_id = exhausted.case_id
        await lock_case(uow, case_id)
        values = {
            "exhausted_on": envelope.occurred_at.ToDatetime().date(),
            "remaining_currency": exhausted.remaining.currency or None,
            "remaining_minor": exhausted.remaining.minor_units
            if exhausted.remaining.currency
            else None,
        }
        await uow.session.execute(
            pg_insert(cases)
            .values(case_id=case_id, tenant_id=envelope.tenant_id, status=UNRECOVERED, **values)
            .on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_=values | {"updated_at": func.now()},
                # Matching exhausts a case once; a redelivery changes nothing.
                where=cases.c.exhausted_on.is_(None),
            )
        )
        await refresh_outcome(uow, case_id)

    async def on_case_withdrawn(
        self, withdrawn: CaseWithdrawn, envelope: EventEnvelope, uow: UnitOfWork
    ) -> None:
        """A withdrawn case is never scored again."""
        await lock_case(uow, withdrawn.case_id)
        on = envelope.occurred_at.ToDatetime().date()
        await uow.session.execute(
            pg_insert(cases)
            .values(
                case_id=withdrawn.case_id,
                tenant_id=envelope.tenant_id,
                status=WITHDRAWN,
                withdrawn_on=on,
            )
            .on_conflict_do_update(
                index_elements=[cases.c.case_id],
                set_={
                    "withdrawn_on": func.coalesce(cases.c.withdrawn_on, on),
                    "updated_at": func.now(),
                },
            )
        )
        await refresh_outcome(uow, withdrawn.case_id)

    async def record_and_publish(
        self,
        envelope: EventEnvelope,
        uow: UnitOfWork,
        inputs: ScoringInputs,
        as_of: date,
        trigger: str,
        trigger_event_id: str | None = None,
    ) -> None:
        """Store a score made because of an event, and announce it in the same transaction."""
        result = score(inputs, as_of, self.models.active())
        score_id = await insert_score(
            uow,
            case_id=envelope.case_id,
            tenant_id=envelope.tenant_id,
            trigger_event_id=trigger_event_id or envelope.event_id,
            trigger=trigger,
            as_of=as_of,
            inputs=inputs,
            result=result,
        )
        event_type, version = CASE_SCORED
        await uow.publish(
            new_event(
                producer=SERVICE,
                event_type=event_type,
                version=version,
                case_id=envelope.case_id,
                tenant_id=envelope.tenant_id,
                payload=CaseScored(
                    case_id=envelope.case_id,
                    trustscore=result.trustscore,
                    recovery_probability=str(result.recovery_probability),
                    segment=result.segment,
                    strategy=result.strategy,
                    reason_codes=result.reason_codes,
                    model_version=result.model_version,
                    expected_days_to_recover=result.expected_days_to_recover,
                    debtor_insolvent=result.debtor_insolvent,
                    trigger=trigger,
                    score_id=score_id,
                    as_of=as_of.isoformat(),
                ),
            )
        )

    async def score_request(
        self,
        facts: CaseFacts,
        case_id: str | None,
        tenant_id: str | None,
        as_of: date,
        uow: UnitOfWork,
    ) -> StoredScore | None:
        """Score facts now for a quote and store it; None when the case belongs to another tenant.

        Raises ScoringStopped when the case was withdrawn or is already recovered.
        """
        owner = tenant_id or ""
        if case_id is not None:
            row = (
                (await uow.session.execute(select(cases).where(cases.c.case_id == case_id)))
                .mappings()
                .first()
            )
            if row is not None:
                if tenant_id is not None and row["tenant_id"] != tenant_id:
                    return None
                if row["status"] != OPEN:
                    raise ScoringStopped(
                        f"case_id: the case is {row['status']}; no further scoring"
                    )
                owner = row["tenant_id"]
        inputs = await self.inputs_for(facts, case_id, owner, as_of, uow)
        result = score(inputs, as_of, self.models.active())
        score_id = await insert_score(
            uow,
            case_id=case_id,
            tenant_id=owner,
            trigger_event_id=str(uuid.uuid4()),
            trigger=SCORE_REQUEST,
            as_of=as_of,
            inputs=inputs,
            result=result,
        )
        return StoredScore(score_id, case_id, owner, as_of, SCORE_REQUEST, result, inputs)

    async def reproduce(self, score_id: str, uow: UnitOfWork) -> tuple[StoredScore, Score] | None:
        """A stored score and the same score recomputed from its stored inputs and model."""
        row = (
            (await uow.session.execute(select(scores).where(scores.c.score_id == score_id)))
            .mappings()
            .first()
        )
        if row is None:
            return None
        stored = stored_score(dict(row))
        if stored.inputs is None:
            return None
        model = self.models.get(stored.score.model_version)
        return stored, score(stored.inputs, stored.as_of, model)


async def upsert_case(uow: UnitOfWork, case_id: str, tenant_id: str, facts: CaseFacts) -> bool:
    """Record a submitted case's facts; True when a withdrawal came first."""
    result = await uow.session.execute(
        pg_insert(cases)
        .values(
            case_id=case_id,
            tenant_id=tenant_id,
            debtor_key=facts.debtor_siren,
            facts=facts.to_dict(),
            due_date=facts.due_date,
            status="open",
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


async def record_payment(
    uow: UnitOfWork,
    envelope: EventEnvelope,
    *,
    payment_key: str,
    source: str,
    case_id: str,
    amount: tuple[str, int],
    paid_on: date,
    settles_in_full: bool,
) -> bool:
    """Store a payment once per (case, payment key); True when it was not known yet."""
    currency, minor = amount
    result = await uow.session.execute(
        pg_insert(payments)
        .values(
            event_id=envelope.event_id,
            payment_key=payment_key,
            source=source,
            case_id=case_id,
            currency=currency,
            amount_minor=minor,
            paid_on=paid_on,
            settles_in_full=settles_in_full,
        )
        .on_conflict_do_nothing()
        .returning(payments.c.event_id)
    )
    return result.first() is not None


async def refresh_outcome(uow: UnitOfWork, case_id: str) -> Outcome:
    """Derive the case's status from everything known of it and store it if it changed."""
    row = (
        (await uow.session.execute(select(cases).where(cases.c.case_id == case_id)))
        .mappings()
        .first()
    )
    if row is None:
        return Outcome(OPEN)
    facts = CaseFacts.from_dict(row["facts"]) if row["facts"] is not None else None
    currency = facts.currency if facts is not None else None
    paid, settled, last_paid_on = await case_payments(case_id, currency, uow)
    same_currency = facts is not None and row["remaining_currency"] == facts.currency
    outcome = outcome_of(
        CaseRecord(
            amount_minor=facts.amount_minor if facts is not None else None,
            paid_minor=paid,
            settled_in_full=settled,
            last_paid_on=last_paid_on,
            withdrawn=row["withdrawn_on"] is not None,
            exhausted_on=row["exhausted_on"],
            remaining_minor=row["remaining_minor"] if same_currency else None,
        )
    )
    current = Outcome(
        row["status"],
        row["closed_on"],
        None if row["recovered_share"] is None else Decimal(row["recovered_share"]),
    )
    if outcome != current:
        await uow.session.execute(
            update(cases)
            .where(cases.c.case_id == case_id)
            .values(
                status=outcome.status,
                closed_on=outcome.ended_on,
                recovered_share=outcome.recovered_share,
                updated_at=func.now(),
            )
        )
    return outcome


async def lock_case(uow: UnitOfWork, case_id: str) -> None:
    """Serialise the handlers of one case: its events come on different topics, in parallel."""
    await uow.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(case_id))))


async def case_payments(
    case_id: str, currency: str | None, uow: UnitOfWork, paid_by: date | None = None
) -> tuple[int, bool, date | None]:
    """Total paid on a case (by a day), whether a payment settled it in full, and when last.

    Without a currency (the submission has not arrived) every payment counts.
    """
    query = select(
        func.coalesce(func.sum(payments.c.amount_minor), 0),
        func.coalesce(func.bool_or(payments.c.settles_in_full), False),
        func.max(payments.c.paid_on),
    ).where(payments.c.case_id == case_id)
    if currency is not None:
        query = query.where(payments.c.currency == currency)
    if paid_by is not None:
        query = query.where(payments.c.paid_on <= paid_by)
    row = (await uow.session.execute(query)).one()
    return int(row[0]), bool(row[1]), row[2]


async def last_payment_after(
    case_id: str, currency: str, day: date, uow: UnitOfWork
) -> tuple[str, str, date] | None:
    """The event id, source and day of the case's last payment made after that day, if any."""
    row = (
        await uow.session.execute(
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
    return None if row is None else (str(row[0]), str(row[1]), row[2])


async def debtor_history(
    siren: str, case_id: str | None, tenant_id: str, as_of: date, uow: UnitOfWork
) -> DebtorHistory:
    """Counts over the debtor's other cases, every creditor together; never per creditor.

    Other creditors' cases count only when there are at least MIN_OTHER_CREDITOR_CASES of
    them: below that, a creditor could read one other creditor's case off its own score.
    """
    days_late = cases.c.closed_on - cases.c.due_date
    own = (cases.c.tenant_id == tenant_id).label("own")
    query = (
        select(
            own,
            func.count(),
            func.count().filter(cases.c.status == RECOVERED),
            func.count().filter(
                cases.c.status.in_((OPEN, UNRECOVERED))
                & (cases.c.due_date < as_of - timedelta(days=UNPAID_AFTER_DAYS))
            ),
            func.coalesce(func.sum(days_late).filter(cases.c.status == RECOVERED), 0),
        )
        .where(
            cases.c.debtor_key == siren,
            cases.c.status != WITHDRAWN,
            cases.c.facts.is_not(None),
        )
        .group_by(own)
    )
    if case_id is not None:
        query = query.where(cases.c.case_id != case_id)
    totals = [0, 0, 0, 0]
    for row in (await uow.session.execute(query)).all():
        if not row[0] and row[1] < MIN_OTHER_CREDITOR_CASES:
            continue
        totals = [t + int(v) for t, v in zip(totals, row[1:], strict=True)]
    other, paid, unpaid, days_late_total = totals
    return DebtorHistory(
        other_cases=other,
        paid_cases=paid,
        unpaid_cases=unpaid,
        average_days_late_when_paid=round(days_late_total / paid, 1) if paid else 0.0,
    )


async def insert_score(
    uow: UnitOfWork,
    *,
    case_id: str | None,
    tenant_id: str,
    trigger_event_id: str,
    trigger: str,
    as_of: date,
    inputs: ScoringInputs,
    result: Score,
) -> str:
    """Store a score with everything that made it; returns its id."""
    score_id = str(uuid.uuid4())
    await uow.session.execute(
        insert(scores).values(
            score_id=score_id,
            case_id=case_id,
            tenant_id=tenant_id,
            trigger_event_id=trigger_event_id,
            trigger=trigger,
            as_of=as_of,
            inputs=inputs.to_dict(),
            features=dict(result.features),
            trustscore=result.trustscore,
            recovery_probability=result.recovery_probability,
            expected_days_to_recover=result.expected_days_to_recover,
            segment=result.segment,
            strategy=result.strategy,
            debtor_insolvent=result.debtor_insolvent,
            reason_codes=list(result.reason_codes),
            reasons=[{"code": r.code, "text": r.text, "weight": r.weight} for r in result.reasons],
            model_version=result.model_version,
        )
    )
    return score_id


def stored_score(row: Mapping[str, Any], scoring_stopped: bool = False) -> StoredScore:
    """A scores row as a StoredScore."""
    return StoredScore(
        score_id=str(row["score_id"]),
        case_id=row["case_id"],
        tenant_id=row["tenant_id"],
        as_of=row["as_of"],
        trigger=row["trigger"],
        inputs=ScoringInputs.from_dict(row["inputs"]) if "case" in row["inputs"] else None,
        scoring_stopped=scoring_stopped,
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


async def latest_score(case_id: str, uow: UnitOfWork) -> StoredScore | None:
    """The case's newest score of record (not what-if quotes), or None."""
    row = (
        (
            await uow.session.execute(
                select(scores)
                .where(scores.c.case_id == case_id, scores.c.trigger != SCORE_REQUEST)
                .order_by(scores.c.id.desc())
                .limit(1)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    withdrawn_on = await uow.session.scalar(
        select(cases.c.withdrawn_on).where(cases.c.case_id == case_id)
    )
    return stored_score(dict(row), scoring_stopped=withdrawn_on is not None)
