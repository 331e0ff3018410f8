"""Making a score: gather what is known of the case and its debtor, score it, keep it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from scoring.domain.facts import CaseFacts, DebtorHistory, ScoringInputs
from scoring.domain.history import CountsAsked, debtor_history, unpaid_if_due_before
from scoring.domain.scorecard import score
from scoring.domain.scores import StoredScore
from scoring.service_layer.events import case_scored
from scoring.service_layer.ports import CompanyRegistry, ModelVersions
from scoring.service_layer.unit_of_work import QuoteUnitOfWork, ScoringUnitOfWork


@dataclass(frozen=True)
class ToScore:
    """A case's facts to score now, with whose case it is."""

    facts: CaseFacts
    case_id: str | None
    tenant_id: str
    as_of: date


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
        [inputs] = await self.inputs_for_many(uow, [ToScore(facts, case_id, tenant_id, as_of)])
        return inputs

    async def inputs_for_many(
        self, uow: QuoteUnitOfWork, cases: Sequence[ToScore]
    ) -> list[ScoringInputs]:
        """`inputs_for` of many cases, their debtors' histories counted in one query."""
        asked = [
            CountsAsked(c.facts.debtor_siren, c.tenant_id, c.case_id, unpaid_if_due_before(c.as_of))
            for c in cases
            if c.facts.debtor_siren is not None
        ]
        counted = iter(await uow.cases.debtor_counts_many(asked) if asked else [])
        inputs = []
        for case in cases:
            siren = case.facts.debtor_siren
            if siren is None:
                inputs.append(ScoringInputs(case=case.facts, company=None, history=DebtorHistory()))
                continue
            own, others = next(counted)
            inputs.append(
                ScoringInputs(
                    case=case.facts,
                    company=await self.registry.lookup(siren),
                    history=debtor_history(own, others),
                )
            )
        return inputs

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
        [made] = await self.make_many(
            uow, [ToScore(facts, case_id, tenant_id, as_of)], trigger=trigger
        )
        return made

    async def make_many(
        self, uow: QuoteUnitOfWork, cases: Sequence[ToScore], *, trigger: str
    ) -> list[StoredScore]:
        """`make` of many cases, with one query for all their debtors' histories."""
        model = self.models.active()
        return [
            StoredScore(
                score_id=str(uuid.uuid4()),
                case_id=case.case_id,
                tenant_id=case.tenant_id,
                as_of=case.as_of,
                trigger=trigger,
                score=score(inputs, case.as_of, model),
                inputs=inputs,
            )
            for case, inputs in zip(cases, await self.inputs_for_many(uow, cases), strict=True)
        ]

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
