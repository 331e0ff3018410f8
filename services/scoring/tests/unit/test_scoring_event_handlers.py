"""Each consumed fact becomes its command: the Kafka handlers, on fakes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import pytest
from google.protobuf.message import Message

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted, CaseWithdrawn, PaymentDeclared
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import CaseExhausted, PaymentAttributed
from recouvra_shared.events import new_event
from recouvra_shared.outages import is_transient
from scoring.entrypoints import event_handlers
from scoring.entrypoints.event_handlers import facts_from_submitted
from scoring.service_layer.ports import SirenSourceUnreachable
from services.scoring.tests.unit.builders import INSOLVENT_SIREN, new_id, scorer, scores_of
from services.scoring.tests.unit.fakes import FakeDebtorSirens, FakeScoringUnitOfWork, FakeStorage

ON = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def envelope(case_id: str, payload: Message, on: datetime = ON) -> EventEnvelope:
    return new_event(
        producer="intake",
        event_type="any",
        version=1,
        case_id=case_id,
        tenant_id="t1",
        payload=payload,
        occurred_at=on,
    ).envelope


def submitted(case_id: str, **changes: object) -> CaseSubmitted:
    message = CaseSubmitted(
        case_id=case_id,
        debtor_is_business=True,
        amount=Money(currency="EUR", minor_units=240_000),
        issue_date="2026-08-01",
        due_date="2026-09-01",
    )
    for name, value in changes.items():
        setattr(message, name, value)
    return message


def test_a_submission_becomes_the_case_facts() -> None:
    facts = facts_from_submitted(submitted("c"), "398 259 796 00012")
    assert (facts.amount_minor, facts.currency, facts.paid_minor) == (240_000, "EUR", 0)
    assert (facts.issue_date, facts.due_date) == (date(2026, 8, 1), date(2026, 9, 1))
    assert facts.debtor_siren == "398259796"  # the SIREN of a SIRET
    assert facts.invoice_count == 1


def test_a_wrong_siren_identifies_nobody() -> None:
    assert facts_from_submitted(submitted("c"), "123456789").debtor_siren is None
    no_currency = submitted("c")
    no_currency.amount.currency = ""
    assert facts_from_submitted(no_currency).currency == "EUR"


async def test_facts_from_both_producers_reach_their_use_cases() -> None:
    storage, case_id, scoring = FakeStorage(), new_id(), scorer()
    payment_id = new_id()
    steps: list[tuple[Any, Message]] = [
        (
            partial(event_handlers.on_case_submitted, scorer=scoring, sirens=FakeDebtorSirens()),
            submitted(case_id),
        ),
        (
            partial(event_handlers.on_payment_declared, scorer=scoring),
            PaymentDeclared(
                case_id=case_id,
                amount=Money(currency="EUR", minor_units=10_000),
                paid_on="2026-11-05",
            ),
        ),
        (
            partial(event_handlers.on_payment_attributed, scorer=scoring),
            PaymentAttributed(
                case_id=case_id,
                payment_id=payment_id,
                amount=Money(currency="EUR", minor_units=20_000),
                paid_on="not a date",
            ),
        ),
        (
            event_handlers.on_case_exhausted,
            CaseExhausted(case_id=case_id, remaining=Money(currency="EUR", minor_units=150_000)),
        ),
        (event_handlers.on_case_withdrawn, CaseWithdrawn(case_id=case_id)),
    ]
    for handler, payload in steps:
        async with FakeScoringUnitOfWork(storage) as uow:
            await handler(payload, envelope(case_id, payload), uow)
            await uow.commit()
    declared, attributed = storage.payments
    assert (declared.source, declared.payment_key) == ("creditor", declared.event_id)
    # A provider's payment with no readable day is dated by its event.
    assert (attributed.source, attributed.payment_key, attributed.paid_on) == (
        "provider",
        payment_id,
        ON.date(),
    )
    assert [s.trigger for s in scores_of(storage, case_id)] == [
        "case-submitted",
        "payment-declared",
        "payment-attributed",
    ]
    case = storage.cases[case_id]
    assert (case.exhausted_on, case.remaining_minor, case.withdrawn_on) == (
        ON.date(),
        150_000,
        ON.date(),
    )
    assert case.outcome.status == "unrecovered"


async def test_an_exhaustion_that_names_no_remaining_amount_keeps_none() -> None:
    storage, case_id = FakeStorage(), new_id()
    payload = CaseExhausted(case_id=case_id)
    async with FakeScoringUnitOfWork(storage) as uow:
        await event_handlers.on_case_exhausted(payload, envelope(case_id, payload), uow)
        await uow.commit()
    case = storage.cases[case_id]
    assert (case.remaining_currency, case.remaining_minor) == (None, None)
    assert (case.outcome.status, case.outcome.recovered_share) == ("unrecovered", None)


async def submit(storage: FakeStorage, sirens: FakeDebtorSirens, payload: CaseSubmitted) -> None:
    on_submitted = partial(event_handlers.on_case_submitted, scorer=scorer(), sirens=sirens)
    async with FakeScoringUnitOfWork(storage) as uow:
        await on_submitted(payload, envelope(payload.case_id, payload), uow)
        await uow.commit()


async def test_a_business_debtor_is_scored_with_the_siren_intake_answers_off_the_bus() -> None:
    """The event carries no SIREN (issue 12); intake's answer finds the insolvency."""
    storage, case_id = FakeStorage(), new_id()
    sirens = FakeDebtorSirens({case_id: INSOLVENT_SIREN})
    await submit(storage, sirens, submitted(case_id))
    assert sirens.asked == [case_id]
    [stored] = scores_of(storage, case_id)
    assert (stored.score.segment, stored.score.strategy) == ("insolvent", "declare-claim")
    assert stored.score.debtor_insolvent
    assert stored.inputs is not None
    assert stored.inputs.case.debtor_siren == INSOLVENT_SIREN


async def test_a_consumers_case_asks_intake_nothing() -> None:
    storage, case_id = FakeStorage(), new_id()
    sirens = FakeDebtorSirens({case_id: INSOLVENT_SIREN})
    await submit(storage, sirens, submitted(case_id, debtor_is_business=False))
    assert sirens.asked == []
    [stored] = scores_of(storage, case_id)
    assert not stored.score.debtor_insolvent


async def test_intake_unreachable_is_an_outage_that_commits_nothing() -> None:
    """The inbox consumer waits an outage out and retries the event (its offset uncommitted):
    nothing is scored without the SIREN, nothing is dead-lettered."""
    storage, case_id = FakeStorage(), new_id()
    sirens = FakeDebtorSirens({case_id: INSOLVENT_SIREN}, outages=1)
    with pytest.raises(SirenSourceUnreachable) as outage:
        await submit(storage, sirens, submitted(case_id))
    assert is_transient(outage.value)
    assert (scores_of(storage, case_id), storage.commits) == ([], 0)
    await submit(storage, sirens, submitted(case_id))
    [stored] = scores_of(storage, case_id)
    assert stored.score.debtor_insolvent
