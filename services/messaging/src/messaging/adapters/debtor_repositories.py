"""The debtor's actions on PostgreSQL (the protocols in service_layer/debtor_ports.py)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from messaging.adapters.debtor_action_tables import (
    debtor_disputes,
    debtor_promises,
    instalment_payments,
    instalment_plans,
    instalment_policies,
    payment_declarations,
    portal_link_attempts,
)
from messaging.domain.debtor_actions import Dispute, DisputeReason, PaymentDeclaration, Promise
from messaging.domain.instalments import (
    Instalment,
    InstalmentPlan,
    InstalmentPolicy,
    Period,
    PlanState,
    Proposal,
)
from recouvra_shared.errors import StateConflict


def _dispute_of(row: Any) -> Dispute:
    return Dispute(
        dispute_id=str(row.dispute_id),
        case_id=row.case_id,
        reason=DisputeReason(row.reason),
        text=row.text,
        evidence_ids=tuple(row.evidence_ids),
        opened_by=row.opened_by,
        opened_at=row.opened_at,
        resolved_at=row.resolved_at,
    )


class SqlDebtorActions:
    """`DebtorActions` on the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_dispute(self, dispute: Dispute) -> None:
        values = asdict(dispute)
        values["reason"] = dispute.reason.value
        values["evidence_ids"] = list(dispute.evidence_ids)
        await self.session.execute(insert(debtor_disputes).values(**values))

    async def save_dispute(self, dispute: Dispute) -> None:
        await self.session.execute(
            update(debtor_disputes)
            .where(debtor_disputes.c.dispute_id == dispute.dispute_id)
            .values(resolved_at=dispute.resolved_at)
        )

    async def disputes_of(self, case_id: str) -> list[Dispute]:
        rows = await self.session.execute(
            select(debtor_disputes)
            .where(debtor_disputes.c.case_id == case_id)
            .order_by(debtor_disputes.c.opened_at)
        )
        return [_dispute_of(row) for row in rows]

    async def add_promise(self, promise: Promise) -> None:
        await self.session.execute(insert(debtor_promises).values(**asdict(promise)))

    async def promises_of(self, case_id: str) -> list[Promise]:
        rows = await self.session.execute(
            select(debtor_promises)
            .where(debtor_promises.c.case_id == case_id)
            .order_by(debtor_promises.c.made_at)
        )
        return [
            Promise(
                promise_id=str(row.promise_id),
                case_id=row.case_id,
                amount_minor=row.amount_minor,
                currency=row.currency,
                promised_on=row.promised_on,
                made_by=row.made_by,
                made_at=row.made_at,
            )
            for row in rows
        ]

    async def add_declaration(self, declaration: PaymentDeclaration) -> None:
        await self.session.execute(insert(payment_declarations).values(**asdict(declaration)))

    async def declarations_of(self, case_id: str) -> list[PaymentDeclaration]:
        rows = await self.session.execute(
            select(payment_declarations)
            .where(payment_declarations.c.case_id == case_id)
            .order_by(payment_declarations.c.declared_at)
        )
        return [
            PaymentDeclaration(
                declaration_id=str(row.declaration_id),
                case_id=row.case_id,
                amount_minor=row.amount_minor,
                currency=row.currency,
                paid_on=row.paid_on,
                proof_document_id=row.proof_document_id,
                declared_at=row.declared_at,
                method=row.method,
                reference=row.reference,
            )
            for row in rows
        ]


def _plan_values(plan: InstalmentPlan) -> dict[str, Any]:
    return {
        "plan_id": plan.plan_id,
        "case_id": plan.case_id,
        "creditor_id": plan.creditor_id,
        "total_minor": plan.proposal.total_minor,
        "currency": plan.proposal.currency,
        "instalment_count": plan.proposal.count,
        "first_on": plan.proposal.first_on,
        "period": plan.proposal.period.value,
        "instalments": [[i.number, i.due_on.isoformat(), i.amount_minor] for i in plan.instalments],
        "state": plan.state.value,
        "proposed_by": plan.proposed_by,
        "proposed_at": plan.proposed_at,
        "grace_days": plan.grace_days,
        "outside_policy": list(plan.outside_policy),
        "decided_by": plan.decided_by,
        "paid_minor": plan.paid_minor,
        "check_at": plan.check_at,
        "missed_instalment": plan.missed_instalment,
    }


def _plan_of(row: Any) -> InstalmentPlan:
    return InstalmentPlan(
        plan_id=str(row.plan_id),
        case_id=row.case_id,
        creditor_id=row.creditor_id,
        proposal=Proposal(
            total_minor=row.total_minor,
            currency=row.currency,
            count=row.instalment_count,
            first_on=row.first_on,
            period=Period(row.period),
        ),
        instalments=tuple(
            Instalment(number, date.fromisoformat(day), amount)
            for number, day, amount in row.instalments
        ),
        state=PlanState(row.state),
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        grace_days=row.grace_days,
        outside_policy=tuple(row.outside_policy),
        decided_by=row.decided_by,
        paid_minor=row.paid_minor,
        check_at=row.check_at,
        missed_instalment=row.missed_instalment,
    )


class SqlInstalmentPlans:
    """`InstalmentPlans` on the session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, plan: InstalmentPlan) -> None:
        try:
            async with self.session.begin_nested():
                await self.session.execute(insert(instalment_plans).values(**_plan_values(plan)))
        except IntegrityError as error:
            raise StateConflict("plan: the case already has a pending or agreed plan") from error

    async def save(self, plan: InstalmentPlan) -> None:
        values = _plan_values(plan)
        del values["plan_id"]
        await self.session.execute(
            update(instalment_plans)
            .where(instalment_plans.c.plan_id == plan.plan_id)
            .values(**values)
        )

    async def get(self, plan_id: str) -> InstalmentPlan | None:
        row = (
            await self.session.execute(
                select(instalment_plans).where(instalment_plans.c.plan_id == plan_id)
            )
        ).one_or_none()
        return None if row is None else _plan_of(row)

    async def of_case(self, case_id: str) -> list[InstalmentPlan]:
        rows = await self.session.execute(
            select(instalment_plans)
            .where(instalment_plans.c.case_id == case_id)
            .order_by(instalment_plans.c.proposed_at)
        )
        return [_plan_of(row) for row in rows]

    async def next_due(self, now: datetime) -> InstalmentPlan | None:
        row = (
            await self.session.execute(
                select(instalment_plans)
                .where(
                    instalment_plans.c.check_at.isnot(None),
                    instalment_plans.c.check_at <= now,
                    instalment_plans.c.state == PlanState.AGREED.value,
                )
                .order_by(instalment_plans.c.check_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).one_or_none()
        return None if row is None else _plan_of(row)

    async def count_payment(self, plan_id: str, payment_id: str, amount_minor: int) -> bool:
        inserted = await self.session.execute(
            insert(instalment_payments)
            .values(plan_id=plan_id, payment_id=payment_id, amount_minor=amount_minor)
            .on_conflict_do_nothing()
            .returning(instalment_payments.c.plan_id)
        )
        return inserted.first() is not None

    async def policy(self, creditor_id: str) -> InstalmentPolicy | None:
        row = (
            await self.session.execute(
                select(instalment_policies).where(instalment_policies.c.creditor_id == creditor_id)
            )
        ).one_or_none()
        if row is None:
            return None
        return InstalmentPolicy(
            max_instalments=row.max_instalments,
            min_instalment_minor=row.min_instalment_minor,
            max_first_delay_days=row.max_first_delay_days,
            grace_days=row.grace_days,
        )

    async def set_policy(self, creditor_id: str, policy: InstalmentPolicy | None) -> None:
        if policy is None:
            await self.session.execute(
                instalment_policies.delete().where(instalment_policies.c.creditor_id == creditor_id)
            )
            return
        values = asdict(policy)
        await self.session.execute(
            insert(instalment_policies)
            .values(creditor_id=creditor_id, **values)
            .on_conflict_do_update(index_elements=["creditor_id"], set_=values)
        )


class SqlPortalAttempts:
    """`PortalAttempts` on the session's transaction; one atomic upsert per attempt."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, link_hash: str, case_id: str, at: datetime) -> int:
        statement = insert(portal_link_attempts).values(
            link_hash=link_hash, case_id=case_id, attempts=1, last_attempt_at=at
        )
        counted = await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["link_hash"],
                set_={
                    "attempts": portal_link_attempts.c.attempts + 1,
                    "last_attempt_at": at,
                },
            ).returning(portal_link_attempts.c.attempts)
        )
        return int(counted.scalar_one())

    async def give_back(self, link_hash: str) -> None:
        await self.session.execute(
            update(portal_link_attempts)
            .where(portal_link_attempts.c.link_hash == link_hash)
            .values(attempts=portal_link_attempts.c.attempts - 1)
        )
