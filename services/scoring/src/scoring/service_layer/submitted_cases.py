"""Scoring a case intake submitted, as of the day it was submitted."""

from __future__ import annotations

import logging
from dataclasses import replace

from scoring.domain.cases import CREDITOR
from scoring.domain.commands import ScoreSubmittedCase
from scoring.domain.outcomes import OPEN
from scoring.domain.scores import CASE_SUBMITTED, PAYMENT_ATTRIBUTED, PAYMENT_DECLARED
from scoring.service_layer.case_outcomes import refresh_outcome
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.unit_of_work import ScoringUnitOfWork

log = logging.getLogger(__name__)


async def score_submitted_case(
    command: ScoreSubmittedCase, uow: ScoringUnitOfWork, scorer: Scorer
) -> None:
    """Score a newly submitted case as of the day it was submitted, store it, announce it."""
    case_id, tenant_id, as_of = command.case_id, command.tenant_id, command.submitted_on
    await uow.cases.lock(case_id)
    withdrawn = await uow.cases.record_submission(case_id, tenant_id, command.facts)
    outcome = await refresh_outcome(uow, case_id)
    if withdrawn:
        log.info("case %s was withdrawn before it was scored: not scoring it", case_id)
        return
    # The first score of record knows only the payments made by its day, whatever order
    # their events came in: training learns from it, so nothing later may leak into it.
    currency = command.facts.currency
    paid_by_then = await uow.payments.totals(case_id, currency, paid_by=as_of)
    if paid_by_then.settled_in_full or paid_by_then.paid_minor >= command.facts.amount_minor:
        return  # recovered before it was submitted: nothing to score
    await scorer.keep_and_announce(
        uow,
        replace(command.facts, paid_minor=paid_by_then.paid_minor),
        case_id=case_id,
        tenant_id=tenant_id,
        as_of=as_of,
        trigger=CASE_SUBMITTED,
        trigger_event_id=command.event_id,
    )
    later = await uow.payments.last_after(case_id, currency, as_of)
    if later is None or outcome.status != OPEN:
        return
    # Payments told before the submission re-score it now, as their own events would have.
    paid = await uow.payments.totals(case_id, currency)
    await scorer.keep_and_announce(
        uow,
        replace(command.facts, paid_minor=paid.paid_minor),
        case_id=case_id,
        tenant_id=tenant_id,
        as_of=later.paid_on,
        trigger=PAYMENT_DECLARED if later.source == CREDITOR else PAYMENT_ATTRIBUTED,
        trigger_event_id=later.event_id,
    )
