"""The debtor's actions as portal.proto messages: one conversion each, shared by the portal's and
the creditor's and holder's servicers."""

from __future__ import annotations

from datetime import datetime

from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise
from messaging.domain.instalments import InstalmentPlan, InstalmentPolicy
from messaging.service_layer.portal import RecordedActions
from recouvra.common.v1.money_pb2 import Money
from recouvra.messaging.v1 import portal_pb2 as pb


def money(minor: int, currency: str) -> Money:
    """An amount as the contracts carry it."""
    return Money(minor_units=minor, currency=currency)


def _stamp(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def plan_reply(plan: InstalmentPlan) -> pb.InstalmentPlan:
    """A plan with its schedule and where it is."""
    currency = plan.proposal.currency
    return pb.InstalmentPlan(
        plan_id=plan.plan_id,
        case_id=plan.case_id,
        state=plan.state.value,
        total=money(plan.proposal.total_minor, currency),
        period=plan.proposal.period.value,
        instalments=[
            pb.Instalment(
                number=i.number, due_on=i.due_on.isoformat(), amount=money(i.amount_minor, currency)
            )
            for i in plan.instalments
        ],
        outside_policy=list(plan.outside_policy),
        decided_by=plan.decided_by,
        paid=money(plan.paid_minor, currency),
        missed_instalment=plan.missed_instalment,
        proposed_by=plan.proposed_by,
    )


def promise_reply(promise: Promise) -> pb.Promise:
    """A promise as recorded."""
    return pb.Promise(
        promise_id=promise.promise_id,
        amount=money(promise.amount_minor, promise.currency),
        promised_on=promise.promised_on.isoformat(),
        made_by=promise.made_by,
    )


def dispute_reply(dispute: Dispute) -> pb.Dispute:
    """A dispute as recorded, its words included (for the debtor and the case's parties)."""
    return pb.Dispute(
        dispute_id=dispute.dispute_id,
        reason=dispute.reason.value,
        text=dispute.text,
        evidence_document_ids=list(dispute.evidence_ids),
        opened_at=_stamp(dispute.opened_at),
        resolved_at=_stamp(dispute.resolved_at),
    )


def declaration_reply(declaration: PaymentDeclaration) -> pb.PaymentDeclaration:
    """A declared payment as recorded."""
    return pb.PaymentDeclaration(
        declaration_id=declaration.declaration_id,
        amount=money(declaration.amount_minor, declaration.currency),
        paid_on=declaration.paid_on.isoformat(),
        proof_document_id=declaration.proof_document_id,
        method=declaration.method,
        reference=declaration.reference,
    )


def actions_reply(recorded: RecordedActions) -> pb.DebtorActions:
    """Everything recorded on a case."""
    return pb.DebtorActions(
        plans=[plan_reply(p) for p in recorded.plans],
        promises=[promise_reply(p) for p in recorded.promises],
        disputes=[dispute_reply(d) for d in recorded.disputes],
        declarations=[declaration_reply(d) for d in recorded.declarations],
    )


def policy_reply(policy: InstalmentPolicy, currency: str = "EUR") -> pb.InstalmentPolicy:
    """A creditor's instalment policy."""
    return pb.InstalmentPolicy(
        max_instalments=policy.max_instalments,
        min_instalment=money(policy.min_instalment_minor, currency),
        max_first_delay_days=policy.max_first_delay_days,
        grace_days=policy.grace_days,
    )
