"""The facts messaging publishes about the debtor's actions, one topic each (`messaging.<event>.v1`,
keyed by case id, tenant the creditor), built here and written to the outbox by the use cases."""

from __future__ import annotations

from google.protobuf.message import Message

from messaging.domain.debtor_actions import Dispute, PaymentDeclaration, Promise
from messaging.domain.instalments import InstalmentPlan
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import debtor_events_pb2 as facts
from recouvra_shared.events import new_event
from recouvra_shared.unit_of_work import OutgoingEvent

SERVICE = "messaging"
DISPUTE_OPENED = ("dispute-opened", 1)
PROMISE_MADE = ("promise-made", 1)
PLAN_PROPOSED = ("plan-proposed", 1)
PLAN_AGREED = ("plan-agreed", 1)
PLAN_REFUSED = ("plan-refused", 1)
PLAN_BROKEN = ("plan-broken", 1)
DEBTOR_PAYMENT_DECLARED = ("debtor-payment-declared", 1)
PUBLISHED = (
    DISPUTE_OPENED,
    PROMISE_MADE,
    PLAN_PROPOSED,
    PLAN_AGREED,
    PLAN_REFUSED,
    PLAN_BROKEN,
    DEBTOR_PAYMENT_DECLARED,
)


def _event(
    kind: tuple[str, int], case_id: str, creditor_id: str, payload: Message
) -> OutgoingEvent:
    event_type, version = kind
    return new_event(
        producer=SERVICE,
        event_type=event_type,
        version=version,
        case_id=case_id,
        tenant_id=creditor_id,
        payload=payload,
    )


def _schedule(plan: InstalmentPlan) -> list[facts.ScheduledInstalment]:
    currency = plan.proposal.currency
    return [
        facts.ScheduledInstalment(
            number=i.number,
            due_on=i.due_on.isoformat(),
            amount=Money(minor_units=i.amount_minor, currency=currency),
        )
        for i in plan.instalments
    ]


def dispute_opened(dispute: Dispute, creditor_id: str) -> OutgoingEvent:
    """The dispute's reason code and how much evidence came, never its words."""
    return _event(
        DISPUTE_OPENED,
        dispute.case_id,
        creditor_id,
        facts.DisputeOpened(
            case_id=dispute.case_id,
            dispute_id=dispute.dispute_id,
            reason=dispute.reason.value,
            evidence_documents=len(dispute.evidence_ids),
            opened_by=dispute.opened_by,
        ),
    )


def promise_made(promise: Promise, creditor_id: str) -> OutgoingEvent:
    """A promise's amount and day."""
    return _event(
        PROMISE_MADE,
        promise.case_id,
        creditor_id,
        facts.PromiseMade(
            case_id=promise.case_id,
            promise_id=promise.promise_id,
            amount=Money(minor_units=promise.amount_minor, currency=promise.currency),
            promised_on=promise.promised_on.isoformat(),
            made_by=promise.made_by,
        ),
    )


def plan_proposed(plan: InstalmentPlan) -> OutgoingEvent:
    """A plan as proposed, with its schedule and whether the policy took it."""
    return _event(
        PLAN_PROPOSED,
        plan.case_id,
        plan.creditor_id,
        facts.PlanProposed(
            case_id=plan.case_id,
            plan_id=plan.plan_id,
            total=Money(minor_units=plan.proposal.total_minor, currency=plan.proposal.currency),
            period=plan.proposal.period.value,
            instalments=_schedule(plan),
            within_policy=not plan.outside_policy,
            outside_policy=list(plan.outside_policy),
            proposed_by=plan.proposed_by,
        ),
    )


def plan_agreed(plan: InstalmentPlan) -> OutgoingEvent:
    """A plan that binds from now on."""
    return _event(
        PLAN_AGREED,
        plan.case_id,
        plan.creditor_id,
        facts.PlanAgreed(
            case_id=plan.case_id,
            plan_id=plan.plan_id,
            total=Money(minor_units=plan.proposal.total_minor, currency=plan.proposal.currency),
            instalments=_schedule(plan),
            agreed_by=plan.decided_by,
            ends_on=plan.instalments[-1].due_on.isoformat(),
        ),
    )


def plan_refused(plan: InstalmentPlan) -> OutgoingEvent:
    """A plan the holder or the creditor turned down."""
    return _event(
        PLAN_REFUSED,
        plan.case_id,
        plan.creditor_id,
        facts.PlanRefused(case_id=plan.case_id, plan_id=plan.plan_id, refused_by=plan.decided_by),
    )


def plan_broken(plan: InstalmentPlan, owed_by_then_minor: int) -> OutgoingEvent:
    """A plan broken by a missed instalment."""
    currency = plan.proposal.currency
    return _event(
        PLAN_BROKEN,
        plan.case_id,
        plan.creditor_id,
        facts.PlanBroken(
            case_id=plan.case_id,
            plan_id=plan.plan_id,
            missed_instalment=plan.missed_instalment,
            paid=Money(minor_units=plan.paid_minor, currency=currency),
            owed_by_then=Money(minor_units=owed_by_then_minor, currency=currency),
        ),
    )


def payment_declared(declaration: PaymentDeclaration, creditor_id: str) -> OutgoingEvent:
    """A payment the debtor says it made, with its proof's id."""
    return _event(
        DEBTOR_PAYMENT_DECLARED,
        declaration.case_id,
        creditor_id,
        facts.DebtorPaymentDeclared(
            case_id=declaration.case_id,
            declaration_id=declaration.declaration_id,
            amount=Money(minor_units=declaration.amount_minor, currency=declaration.currency),
            paid_on=declaration.paid_on.isoformat(),
            proof_document_id=declaration.proof_document_id,
        ),
    )
