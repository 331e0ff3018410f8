"""Making a score: gather what is known of the case and its debtor, score it, keep it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from scoring.domain.facts import CaseFacts, DebtorHistory, ScoringInputs
from scoring.domain.history import debtor_history, unpaid_if_due_before
from scoring.domain.scorecard import score
from scoring.domain.scores import StoredScore
from scoring.service_layer.events import case_scored
from scoring.service_layer.ports import CompanyRegistry, ModelVersions
from scoring.service_layer.unit_of_work import ScoringUnitOfWork


@dataclass(frozen=True)
class Scorer:
    """Scores cases with the active model, from their facts, company facts and debtor history."""

    registry: CompanyRegistry
    models: ModelVersions

    async def inputs_for(
        self,
        uow: ScoringUnitOfWork,
        facts: CaseFacts,
        case_id: str | None,
        tenant_id: str,
        as_of: date,
    ) -> ScoringInputs:
        """Add company facts and the debtor's history across creditors to a case's facts."""
        siren = facts.debtor_siren
        if siren is None:
            return ScoringInputs(case=facts, company=None, history=DebtorHistory())
        company = await self.registry.lookup(siren)
        own, others = await uow.cases.debtor_counts(
            siren, tenant_id, case_id, unpaid_if_due_before(as_of)
        )
        return ScoringInputs(case=facts, company=company, history=debtor_history(own, others))

    async def keep(
        self,
        uow: ScoringUnitOfWork,
        facts: CaseFacts,
        *,
        case_id: str | None,
        tenant_id: str,
        as_of: date,
        trigger: str,
        trigger_event_id: str,
    ) -> StoredScore:
        """Score the facts with the active model and store the score with its inputs."""
        stored = await self.make(
            uow, facts, case_id=case_id, tenant_id=tenant_id, as_of=as_of, trigger=trigger
        )
        await uow.scores.add(stored, trigger_event_id)
        return stored

    async def make(
        self,
        uow: ScoringUnitOfWork,
        facts: CaseFacts,
        *,
        case_id: str | None,
        tenant_id: str,
        as_of: date,
        trigger: str,
    ) -> StoredScore:
        """Score the facts with the active model, without storing the score."""
        inputs = await self.inputs_for(uow, facts, case_id, tenant_id, as_of)
        return StoredScore(
            score_id=str(uuid.uuid4()),
            case_id=case_id,
            tenant_id=tenant_id,
            as_of=as_of,
            trigger=trigger,
            score=score(inputs, as_of, self.models.active()),
            inputs=inputs,
        )

    async def keep_and_announce(
        self,
        uow: ScoringUnitOfWork,
        facts: CaseFacts,
        *,
        case_id: str,
        tenant_id: str,
        as_of: date,
        trigger: str,
        trigger_event_id: str,
    ) -> None:
        """Store a score of record and announce it in the same transaction."""
        stored = await self.keep(
            uow,
            facts,
            case_id=case_id,
            tenant_id=tenant_id,
            as_of=as_of,
            trigger=trigger,
            trigger_event_id=trigger_event_id,
        )
        await uow.publish(case_scored(stored))
