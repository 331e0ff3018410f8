"""The cases, payments and wiring scoring's unit tests build on: fakes wired as bootstrap wires."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import unpack
from scoring.domain.cases import CREDITOR, PROVIDER, Payment
from scoring.domain.commands import (
    RecordAttributedPayment,
    RecordDeclaredPayment,
    RecordExhaustion,
    RecordWithdrawal,
    ScoreSubmittedCase,
)
from scoring.domain.facts import CaseFacts, CompanyFacts
from scoring.domain.scores import StoredScore
from scoring.service_layer.case_outcomes import record_exhaustion, record_withdrawal
from scoring.service_layer.payments import record_attributed_payment, record_declared_payment
from scoring.service_layer.scorer import Scorer
from scoring.service_layer.submitted_cases import score_submitted_case
from services.scoring.tests.unit.fakes import (
    FakeModels,
    FakeRegistry,
    FakeScoringUnitOfWork,
    FakeStorage,
)

SUBMITTED_ON = date(2026, 11, 2)
EXHAUSTED_ON = SUBMITTED_ON + timedelta(days=95)
TENANT = "t1"
SOUND_SIREN = "398259796"
INSOLVENT_SIREN = "860129048"
SOUND = CompanyFacts(
    siren=SOUND_SIREN,
    name="BOULANGERIE MARTIN",
    created_on=date(2009, 3, 12),
    legal_category="5499",
    size_band="03",
    active=True,
)
INSOLVENT = CompanyFacts(
    siren=INSOLVENT_SIREN,
    name="RENOVATION PETIT",
    created_on=date(2015, 5, 4),
    legal_category="5710",
    size_band="11",
    active=True,
    insolvency_proceedings="Jugement d'ouverture de redressement judiciaire",
    insolvency_published_on=date(2026, 9, 14),
)


def new_id() -> str:
    return str(uuid.uuid4())


def scorer(models: FakeModels | None = None) -> Scorer:
    return Scorer(registry=FakeRegistry(SOUND, INSOLVENT), models=models or FakeModels())


def facts(
    *,
    amount: int = 240_000,
    siren: str | None = SOUND_SIREN,
    due: date = date(2026, 9, 1),
    currency: str = "EUR",
) -> CaseFacts:
    return CaseFacts(
        amount_minor=amount,
        currency=currency,
        due_date=due,
        issue_date=due - timedelta(days=31),
        debtor_is_business=True,
        disputed=False,
        debtor_siren=siren,
    )


def submission(case_id: str, tenant: str = TENANT, **changes: Any) -> ScoreSubmittedCase:
    return ScoreSubmittedCase(new_id(), case_id, tenant, SUBMITTED_ON, facts(**changes))


def payment(
    case_id: str,
    minor: int,
    paid_on: date,
    *,
    key: str | None = None,
    source: str = CREDITOR,
    full: bool = False,
    currency: str = "EUR",
) -> Payment:
    event_id = new_id()
    return Payment(
        event_id, key or event_id, source, case_id, currency, minor, paid_on, settles_in_full=full
    )


def declared(
    case_id: str, minor: int, paid_on: date, *, full: bool = False, told_on: date | None = None
) -> RecordDeclaredPayment:
    return RecordDeclaredPayment(
        payment(case_id, minor, paid_on, full=full), TENANT, told_on or paid_on
    )


def attributed(
    case_id: str, minor: int, paid_on: date, *, key: str, source: str = PROVIDER, full: bool = False
) -> RecordAttributedPayment:
    made = payment(case_id, minor, paid_on, key=key, source=source, full=full)
    return RecordAttributedPayment(made, TENANT, paid_on)


def exhaustion(case_id: str, remaining: int) -> RecordExhaustion:
    return RecordExhaustion(case_id, TENANT, EXHAUSTED_ON, "EUR", remaining)


def withdrawal(case_id: str) -> RecordWithdrawal:
    return RecordWithdrawal(case_id, TENANT, EXHAUSTED_ON + timedelta(days=3))


async def run(storage: FakeStorage, step: Callable[[FakeScoringUnitOfWork], Awaitable[Any]]) -> Any:
    """One step in its own unit of work, committed as the inbox consumer commits."""
    async with FakeScoringUnitOfWork(storage) as uow:
        result = await step(uow)
        await uow.commit()
    return result


def announced(storage: FakeStorage) -> list[CaseScored]:
    """The case-scored events committed to the outbox, in order."""
    return [unpack(event.envelope, CaseScored) for event in storage.outbox]


Fact = (
    ScoreSubmittedCase
    | RecordDeclaredPayment
    | RecordAttributedPayment
    | RecordExhaustion
    | RecordWithdrawal
)


async def handle(command: Fact, uow: FakeScoringUnitOfWork, scoring: Scorer) -> None:
    """The use case each consumed fact becomes."""
    match command:
        case ScoreSubmittedCase():
            await score_submitted_case(command, uow, scoring)
        case RecordDeclaredPayment():
            await record_declared_payment(command, uow, scoring)
        case RecordAttributedPayment():
            await record_attributed_payment(command, uow, scoring)
        case RecordExhaustion():
            await record_exhaustion(command, uow)
        case RecordWithdrawal():
            await record_withdrawal(command, uow)


async def deliver(storage: FakeStorage, scoring: Scorer, *commands: Fact) -> None:
    """Each fact in its own committed unit of work, in the order given."""
    for command in commands:
        async with FakeScoringUnitOfWork(storage) as uow:
            await handle(command, uow, scoring)
            await uow.commit()


def scores_of(storage: FakeStorage, case_id: str) -> list[StoredScore]:
    """The case's stored scores, oldest first."""
    return [stored for stored, _ in storage.scores if stored.case_id == case_id]
