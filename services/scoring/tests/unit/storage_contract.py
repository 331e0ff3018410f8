"""What scoring's use cases rely on from storage, held alike for the fakes and for PostgreSQL.

Subclassed by the unit tier (in-memory fakes) and the integration tier (SQL repositories), so a
fake that drifts from the real adapter fails here first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from scoring.domain.cases import CREDITOR, PROVIDER, LaterPayment, Payment, PaymentTotals
from scoring.domain.facts import CaseFacts, ScoringInputs
from scoring.domain.history import CaseCounts, CountsAsked
from scoring.domain.outcomes import Outcome
from scoring.domain.scorecard import score
from scoring.domain.scores import CASE_SUBMITTED, SCORE_REQUEST, StoredScore
from scoring.service_layer.unit_of_work import ScoringUnitOfWork

Units = Callable[[], ScoringUnitOfWork]
DAY = date(2026, 11, 2)
SIREN = "398259796"


def new_id() -> str:
    return str(uuid.uuid4())


def facts(amount: int = 100_000, due: date = date(2026, 9, 1), siren: str = SIREN) -> CaseFacts:
    return CaseFacts(
        amount_minor=amount,
        due_date=due,
        debtor_is_business=True,
        disputed=False,
        debtor_siren=siren,
    )


def paid(case_id: str, minor: int, on: date, key: str | None = None, **changes: object) -> Payment:
    event_id = new_id()
    made = Payment(event_id, key or event_id, CREDITOR, case_id, "EUR", minor, on, False)
    return replace(made, **changes)  # type: ignore[arg-type]


def a_score(case_id: str | None, trigger: str = CASE_SUBMITTED, as_of: date = DAY) -> StoredScore:
    inputs = ScoringInputs(case=facts())
    return StoredScore(new_id(), case_id, "t1", as_of, trigger, score(inputs, as_of), inputs)


class ScoringStorageContract:
    """Storage seen through ScoringUnitOfWork; subclasses provide the `units` fixture."""

    @pytest.fixture
    def units(self) -> Units:
        raise NotImplementedError

    async def test_a_case_is_known_from_whichever_fact_comes_first(self, units: Units) -> None:
        withdrawn_first, submitted_first = new_id(), new_id()
        async with units() as uow:
            await uow.cases.record_withdrawal(withdrawn_first, "t1", DAY)
            assert await uow.cases.record_submission(withdrawn_first, "t2", facts()) is True
            assert await uow.cases.record_submission(submitted_first, "t1", facts()) is False
            again = facts(amount=120_000)
            assert await uow.cases.record_submission(submitted_first, "t1", again) is False
            await uow.commit()
        async with units() as uow:
            first = await uow.cases.get(withdrawn_first)
            second = await uow.cases.get(submitted_first)
            assert await uow.cases.get(new_id()) is None
        assert first is not None
        assert second is not None
        assert (first.tenant_id, first.withdrawn_on, first.facts) == ("t1", DAY, facts())
        assert first.outcome == Outcome("withdrawn")
        assert (second.facts, second.outcome) == (facts(amount=120_000), Outcome("open"))

    async def test_only_the_first_exhaustion_and_withdrawal_count(self, units: Units) -> None:
        case_id = new_id()
        async with units() as uow:
            await uow.cases.record_exhaustion(case_id, "t1", DAY, ("EUR", 60_000))
            await uow.cases.record_exhaustion(case_id, "t1", DAY + timedelta(days=1), None)
            await uow.cases.record_withdrawal(case_id, "t1", DAY + timedelta(days=2))
            await uow.cases.record_withdrawal(case_id, "t1", DAY + timedelta(days=3))
            await uow.commit()
        async with units() as uow:
            case = await uow.cases.get(case_id)
        assert case is not None
        assert (case.exhausted_on, case.remaining_currency, case.remaining_minor) == (
            DAY,
            "EUR",
            60_000,
        )
        assert case.withdrawn_on == DAY + timedelta(days=2)
        assert case.outcome.status == "unrecovered"
        assert case.facts is None

    async def test_an_outcome_is_stored_as_set(self, units: Units) -> None:
        case_id = new_id()
        outcome = Outcome("unrecovered", DAY, Decimal("0.3750"))
        async with units() as uow:
            await uow.cases.record_submission(case_id, "t1", facts())
            await uow.cases.set_outcome(case_id, outcome)
            await uow.commit()
        async with units() as uow:
            case = await uow.cases.get(case_id)
        assert case is not None
        assert case.outcome == outcome

    async def test_a_payment_is_kept_once_per_event_and_per_payment_key(self, units: Units) -> None:
        case_id = new_id()
        first = paid(case_id, 10_000, DAY)
        async with units() as uow:
            assert await uow.payments.add(first) is True
            assert await uow.payments.add(first) is False
            same_key = first.payment_key
            assert await uow.payments.add(paid(case_id, 10_000, DAY, key=same_key)) is False
            assert await uow.payments.add(paid(new_id(), 10_000, DAY, key=same_key)) is True
            await uow.commit()
        async with units() as uow:
            totals = await uow.payments.totals(case_id, "EUR")
        assert totals == PaymentTotals(10_000, False, DAY)

    async def test_payment_totals_by_currency_and_day(self, units: Units) -> None:
        case_id = new_id()
        later = DAY + timedelta(days=5)
        async with units() as uow:
            await uow.payments.add(paid(case_id, 10_000, DAY))
            await uow.payments.add(paid(case_id, 20_000, later, settles_in_full=True))
            await uow.payments.add(paid(case_id, 5, DAY, currency="USD"))
            assert await uow.payments.totals(case_id, "EUR") == PaymentTotals(30_000, True, later)
            assert await uow.payments.totals(case_id, None) == PaymentTotals(30_005, True, later)
            assert await uow.payments.totals(case_id, "EUR", paid_by=DAY) == PaymentTotals(
                10_000, False, DAY
            )
            assert await uow.payments.totals(new_id(), "EUR") == PaymentTotals()

    async def test_the_last_payment_after_a_day(self, units: Units) -> None:
        case_id = new_id()
        early = paid(case_id, 1, DAY)
        latest = paid(case_id, 2, DAY + timedelta(days=9), source=PROVIDER)
        async with units() as uow:
            for payment in (early, latest, paid(case_id, 3, DAY + timedelta(days=4))):
                await uow.payments.add(payment)
            assert await uow.payments.last_after(case_id, "EUR", DAY) == LaterPayment(
                latest.event_id, PROVIDER, latest.paid_on
            )
            assert await uow.payments.last_after(case_id, "USD", DAY) is None
            assert await uow.payments.last_after(case_id, "EUR", latest.paid_on) is None

    async def test_scores_are_read_back_as_stored(self, units: Units) -> None:
        case_id = new_id()
        first, second = a_score(case_id), a_score(case_id, "payment-declared")
        quote = a_score(case_id, SCORE_REQUEST)
        async with units() as uow:
            for stored in (first, second, quote):
                await uow.scores.add(stored, new_id())
            await uow.commit()
        async with units() as uow:
            assert await uow.scores.get(first.score_id) == first
            assert await uow.scores.latest_of_record(case_id) == second
            assert await uow.scores.latest_of_record(new_id()) is None
            assert await uow.scores.get(new_id()) is None

    async def test_ended_cases_come_with_their_first_score_of_record(self, units: Units) -> None:
        recovered, unrecovered, still_open, without_inputs = (new_id() for _ in range(4))
        first = a_score(recovered, as_of=DAY)
        async with units() as uow:
            for case_id in (recovered, unrecovered, still_open, without_inputs):
                await uow.cases.record_submission(case_id, "t1", facts())
            await uow.cases.set_outcome(recovered, Outcome("recovered", DAY, Decimal(1)))
            await uow.cases.set_outcome(unrecovered, Outcome("unrecovered", DAY, Decimal(0)))
            await uow.cases.set_outcome(without_inputs, Outcome("unrecovered", DAY, Decimal(0)))
            quote = a_score(recovered, SCORE_REQUEST, DAY - timedelta(days=1))
            await uow.scores.add(quote, new_id())
            await uow.scores.add(first, new_id())
            await uow.scores.add(a_score(recovered, as_of=DAY + timedelta(days=1)), new_id())
            await uow.scores.add(a_score(unrecovered), new_id())
            await uow.scores.add(a_score(still_open), new_id())
            await uow.scores.add(replace(a_score(without_inputs), inputs=None), new_id())
            found = await uow.scores.first_of_ended_cases()
        mine = {c.case_id: c for c in found.cases if c.case_id in (recovered, unrecovered)}
        assert set(mine) == {recovered, unrecovered}
        assert all(c.case_id != still_open for c in found.cases)
        assert (mine[recovered].status, mine[recovered].scored_on) == ("recovered", DAY)
        assert mine[recovered].inputs == first.inputs
        assert found.without_inputs >= 1
        assert all(c.case_id != without_inputs for c in found.cases)

    async def test_debtor_counts_split_the_tenants_own_cases_from_others(
        self, units: Units
    ) -> None:
        siren = "732829320"  # shared by no other test
        cutoff = DAY - timedelta(days=60)
        me, paid_own, open_elsewhere, withdrawn, other_debtor = (new_id() for _ in range(5))
        async with units() as uow:
            await uow.cases.record_submission(me, "t1", facts(siren=siren))
            await uow.cases.record_submission(paid_own, "t1", facts(siren=siren))
            await uow.cases.set_outcome(
                paid_own, Outcome("recovered", date(2026, 9, 11), Decimal(1))
            )
            await uow.cases.record_submission(open_elsewhere, "t2", facts(siren=siren))
            await uow.cases.record_submission(withdrawn, "t2", facts(siren=siren))
            await uow.cases.record_withdrawal(withdrawn, "t2", DAY)
            await uow.cases.set_outcome(withdrawn, Outcome("withdrawn"))
            await uow.cases.record_submission(other_debtor, "t2", facts(siren=SIREN))
            own, others = await uow.cases.debtor_counts(siren, "t1", me, cutoff)
            assert own == CaseCounts(cases=1, paid=1, unpaid=0, days_late_when_paid=10)
            assert others == CaseCounts(cases=1, paid=0, unpaid=1, days_late_when_paid=0)
            own, _ = await uow.cases.debtor_counts(siren, "t1", None, cutoff)
            assert own.cases == 2
            _, others = await uow.cases.debtor_counts(siren, "t1", me, date(2026, 9, 1))
            assert others.unpaid == 0  # not overdue long enough yet

    async def test_debtor_counts_of_many_asks_in_one_query_answer_each_ask_as_alone(
        self, units: Units
    ) -> None:
        siren, other_siren = "100000009", "100000017"  # shared by no other test
        cutoff = DAY - timedelta(days=60)
        me, paid_own, open_elsewhere, other = (new_id() for _ in range(4))
        async with units() as uow:
            await uow.cases.record_submission(me, "t1", facts(siren=siren))
            await uow.cases.record_submission(paid_own, "t1", facts(siren=siren))
            await uow.cases.set_outcome(
                paid_own, Outcome("recovered", date(2026, 9, 11), Decimal(1))
            )
            await uow.cases.record_submission(open_elsewhere, "t2", facts(siren=siren))
            await uow.cases.record_submission(other, "t3", facts(siren=other_siren))
            asked = [
                CountsAsked(siren, "t1", me, cutoff),
                CountsAsked("100000025", "t1", None, cutoff),  # a debtor with no case
                CountsAsked(siren, "t2", None, date(2026, 9, 1)),
                CountsAsked(other_siren, "t3", other, cutoff),
                CountsAsked(siren, "t1", me, cutoff),  # asked twice in one batch
            ]
            many = await uow.cases.debtor_counts_many(asked)
            alone = [
                await uow.cases.debtor_counts(
                    a.siren, a.tenant_id, a.excluding, a.unpaid_if_due_before
                )
                for a in asked
            ]
            assert many == alone
            assert many[0] == (CaseCounts(1, 1, 0, 10), CaseCounts(1, 0, 1, 0))
            assert many[1] == many[3] == (CaseCounts(), CaseCounts())
            assert many[2] == (CaseCounts(1, 0, 0, 0), CaseCounts(2, 1, 0, 10))
            assert await uow.cases.debtor_counts_many([]) == []

    async def test_nothing_is_kept_without_a_commit(self, units: Units) -> None:
        case_id = new_id()
        async with units() as uow:
            await uow.cases.record_submission(case_id, "t1", facts())
            await uow.payments.add(paid(case_id, 1, DAY))
            await uow.scores.add(a_score(case_id), new_id())
        async with units() as uow:
            assert await uow.cases.get(case_id) is None
            assert await uow.payments.totals(case_id, None) == PaymentTotals()
            assert await uow.scores.latest_of_record(case_id) is None
