"""Payments on a case: each counted once, a partial one re-scores the case, a full one ends it."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date

from scoring.domain.cases import CREDITOR, Payment
from scoring.domain.commands import RecordAttributedPayment, RecordDeclaredPayment
from scoring.domain.outcomes import OPEN
from scoring.domain.scores import PAYMENT_ATTRIBUTED, PAYMENT_DECLARED
from scoring.service_layer.case_outcomes import refresh_outcome
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.unit_of_work import ScoringUnitOfWork

log = logging.getLogger(__name__)


async def record_declared_payment(
    command: RecordDeclaredPayment, uow: ScoringUnitOfWork, scorer: Scorer
) -> None:
    """Re-score a case after a partial payment; a full payment closes it as recovered."""
    await uow.cases.lock(command.payment.case_id)
    await uow.payments.add(command.payment)
    await rescore_after_payment(
        uow, scorer, command.payment, command.tenant_id, command.told_on, PAYMENT_DECLARED
    )


async def record_attributed_payment(
    command: RecordAttributedPayment, uow: ScoringUnitOfWork, scorer: Scorer
) -> None:
    """Count a payment matching credited to a provider; it may recover the case in full.

    A provider's payment is seen nowhere else and re-scores the case like a declared one.
    A creditor's payment carries the event id of its declaration as payment key, so it is
    stored once whichever topic tells us first, and only its declaration re-scores.
    """
    payment = command.payment
    await uow.cases.lock(payment.case_id)
    new = await uow.payments.add(payment)
    if not new or payment.source == CREDITOR:
        await refresh_outcome(uow, payment.case_id)
        return
    await rescore_after_payment(
        uow, scorer, payment, command.tenant_id, command.told_on, PAYMENT_ATTRIBUTED
    )


async def rescore_after_payment(
    uow: ScoringUnitOfWork,
    scorer: Scorer,
    payment: Payment,
    tenant_id: str,
    told_on: date,
    trigger: str,
) -> None:
    """Close the case when paid in full; otherwise re-score it with what is now paid."""
    case_id = payment.case_id
    outcome = await refresh_outcome(uow, case_id)
    case = await uow.cases.get(case_id)
    if case is None or case.facts is None or outcome.status != OPEN:
        return  # not submitted yet (its submission counts this payment) or no longer scored
    submitted = case.facts
    if payment.currency != submitted.currency:
        log.warning(
            "payment on %s in %s, case in %s: not re-scored",
            case_id,
            payment.currency,
            submitted.currency,
        )
        return
    paid = await uow.payments.totals(case_id, submitted.currency)
    await scorer.keep_and_announce(
        uow,
        replace(submitted, paid_minor=paid.paid_minor),
        case_id=case_id,
        tenant_id=tenant_id,
        as_of=max(payment.paid_on, told_on),
        trigger=trigger,
        trigger_event_id=payment.event_id,
    )
