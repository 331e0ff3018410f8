"""Wires scoring's adapters into its use cases and entrypoints, once."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import TextIO

from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from recouvra.scoring.v1 import scoring_pb2, scoring_pb2_grpc
from recouvra_shared.db import Database
from recouvra_shared.events import topic_name
from recouvra_shared.inbox import Subscription
from recouvra_shared.runtime import ServiceParts, Wiring
from scoring.adapters.intake_sirens import IntakeDebtorSirens
from scoring.adapters.model_store import FileModelStore
from scoring.adapters.quote_unit_of_work import DriverQuoteUnitOfWork
from scoring.adapters.registry import CsvCompanyRegistry
from scoring.adapters.unit_of_work import SqlScoringUnitOfWork
from scoring.config import ScoringSettings
from scoring.domain.outcomes import EndedCase
from scoring.entrypoints import event_handlers
from scoring.entrypoints.grpc_api import ScoringApi
from scoring.service_layer.events import CASE_SCORED, SERVICE
from scoring.service_layer.explanations import Reproduction, reproduce_score
from scoring.service_layer.scorer import Scorer

CASE_SUBMITTED_TOPIC = topic_name("intake", "case-submitted", 1)
PAYMENT_DECLARED_TOPIC = topic_name("intake", "payment-declared", 1)
CASE_WITHDRAWN_TOPIC = topic_name("intake", "case-withdrawn", 1)
CASE_EXHAUSTED_TOPIC = topic_name("matching", "case-exhausted", 1)
PAYMENT_ATTRIBUTED_TOPIC = topic_name("matching", "payment-attributed", 1)


def units_of_work(database: Database) -> Callable[[], SqlScoringUnitOfWork]:
    """A factory of scoring's units of work on this database."""
    return lambda: SqlScoringUnitOfWork(database.sessions)


def scoring_api(database: Database, scoring: Scorer) -> ScoringApi:
    """The gRPC API on this database: its quotes on their own lighter unit of work."""
    return ScoringApi(
        units_of_work(database),
        scoring,
        quote_units=lambda: DriverQuoteUnitOfWork(database.engine),
    )


def scorer(settings: ScoringSettings) -> Scorer:
    """Scores with the configured company registry and model versions."""
    return Scorer(
        registry=CsvCompanyRegistry(settings.company_registry_file),
        models=FileModelStore(settings.model_dir),
    )


def build(wiring: Wiring) -> ServiceParts:
    """Scoring serves ScoringService, consumes case facts and outcomes (asking intake for a
    business debtor's SIREN), publishes case-scored."""
    settings = wiring.settings
    assert isinstance(settings, ScoringSettings)
    scoring = scorer(settings)
    units = units_of_work(wiring.database)
    api = scoring_api(wiring.database, scoring)
    sirens = IntakeDebtorSirens(wiring.channel_to("intake", settings.intake_target))
    return ServiceParts(
        grpc_services=[
            (
                scoring_pb2.DESCRIPTOR.services_by_name["ScoringService"].full_name,
                lambda server: scoring_pb2_grpc.add_ScoringServiceServicer_to_server(api, server),
            )
        ],
        subscriptions=[
            # "scoring" is the group that has consumed case-submitted since the first version.
            Subscription(
                CASE_SUBMITTED_TOPIC,
                SERVICE,
                CaseSubmitted,
                partial(event_handlers.on_case_submitted, scorer=scoring, sirens=sirens),
            ),
            Subscription(
                PAYMENT_DECLARED_TOPIC,
                f"{SERVICE}-payments",
                PaymentDeclared,
                partial(event_handlers.on_payment_declared, scorer=scoring),
            ),
            Subscription(
                CASE_WITHDRAWN_TOPIC,
                f"{SERVICE}-withdrawals",
                CaseWithdrawn,
                event_handlers.on_case_withdrawn,
            ),
            Subscription(
                CASE_EXHAUSTED_TOPIC,
                f"{SERVICE}-exhausted",
                CaseExhausted,
                event_handlers.on_case_exhausted,
            ),
            Subscription(
                PAYMENT_ATTRIBUTED_TOPIC,
                f"{SERVICE}-attributed-payments",
                PaymentAttributed,
                partial(event_handlers.on_payment_attributed, scorer=scoring),
            ),
        ],
        unit_of_work=units,
        published_topics=[topic_name(SERVICE, *CASE_SCORED)],
        # Score and GetScore keep nothing in process and publish nothing: each call is its own
        # transaction (or a batch of this process's calls), so any process may answer it.
        grpc_in_many_processes=True,
    )


def model_store_at(directory: Path | None) -> FileModelStore:
    """The model versions kept in that directory (the built-in scorecard only, without one)."""
    return FileModelStore(directory)


@contextlib.asynccontextmanager
async def command_unit_of_work(settings: ScoringSettings) -> AsyncIterator[SqlScoringUnitOfWork]:
    """One unit of work on scoring's database for a one-off command; the pool closes after."""
    database = Database.connect(settings.database_url.get_secret_value(), pool_size=1)
    try:
        async with units_of_work(database)() as uow:
            yield uow
    finally:
        await database.dispose()


async def read_platform_ended_cases(out: TextIO) -> list[EndedCase]:
    """The platform's ended cases, read from scoring's database for the train command."""
    # Imported here: scikit-learn is the train command's alone, and importing it took most of
    # a serving process's start on a busy machine (docs/performance.md, Scoring).
    from scoring.service_layer.training import platform_ended_cases

    async with command_unit_of_work(ScoringSettings()) as uow:
        return await platform_ended_cases(uow, out)


async def reproduce_stored_score(score_id: str) -> Reproduction | None:
    """One stored score recomputed, read from scoring's database for the explain command."""
    settings = ScoringSettings()
    async with command_unit_of_work(settings) as uow:
        return await reproduce_score(score_id, uow, FileModelStore(settings.model_dir))
