"""Scoring wired on a real database as bootstrap wires it, for the integration tests."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any

from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra_shared.db import Database
from recouvra_shared.events import decode_payload
from scoring.adapters.model_store import FileModelStore
from scoring.adapters.registry import CsvCompanyRegistry
from scoring.bootstrap import units_of_work
from scoring.domain.commands import GetScoreOfRecord, QuoteScore
from scoring.domain.errors import NoScore
from scoring.domain.facts import CaseFacts
from scoring.domain.scores import StoredScore
from scoring.entrypoints import event_handlers
from scoring.service_layer.explanations import Reproduction, reproduce_score
from scoring.service_layer.quotes import quote_score
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.scores_of_record import score_of_record
from services.scoring.tests.unit.fakes import FakeDebtorSirens

# What intake answers these tests for each case's debtor SIREN (no longer on the bus): a test
# that submits a business case records its SIREN here first (case ids are unique).
INTAKE_SIRENS = FakeDebtorSirens()


class WiredScoring:
    """Scoring's Kafka handlers and use cases over one database."""

    def __init__(self, database: Database, models: FileModelStore | None = None) -> None:
        self.units = units_of_work(database)
        self.models = models or FileModelStore(None)
        self.scorer = Scorer(registry=CsvCompanyRegistry(), models=self.models)
        self.on_case_submitted = partial(
            event_handlers.on_case_submitted, scorer=self.scorer, sirens=INTAKE_SIRENS
        )
        self.on_payment_declared = partial(event_handlers.on_payment_declared, scorer=self.scorer)
        self.on_payment_attributed = partial(
            event_handlers.on_payment_attributed, scorer=self.scorer
        )
        self.on_case_withdrawn = event_handlers.on_case_withdrawn
        self.on_case_exhausted = event_handlers.on_case_exhausted

    async def handle(self, handler: Any, event: EventEnvelope) -> None:
        """One event through its handler, committed as the inbox consumer commits."""
        async with self.units() as uow:
            await handler(decode_payload(event), event, uow)
            await uow.commit()

    async def quote(
        self, facts: CaseFacts, case_id: str | None, tenant_id: str | None, as_of: date
    ) -> StoredScore:
        """Score a quote and keep it, as the Score API does."""
        async with self.units() as uow:
            command = QuoteScore(facts, case_id, tenant_id, as_of)
            stored = await quote_score(command, uow, self.scorer)
            await uow.commit()
        return stored

    async def score_of_record(self, case_id: str) -> StoredScore | None:
        """The case's latest score of record as the platform sees it, or None."""
        async with self.units() as uow:
            try:
                return await score_of_record(GetScoreOfRecord(case_id, None), uow)
            except NoScore:
                return None

    async def reproduce(self, score_id: str) -> Reproduction | None:
        """A stored score recomputed, as the explain command does."""
        async with self.units() as uow:
            return await reproduce_score(score_id, uow, self.models)
