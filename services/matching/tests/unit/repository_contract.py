"""What matching's use cases expect of storage, written once and run against every backend.

`RepositoryContract` is subclassed by the in-memory fakes' test (unit tier) and by the SQL
repositories' test (integration tier, on PostgreSQL), so the fakes the unit tests rely on keep
behaving like the real thing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from matching.domain import events
from matching.domain.auction import AutoBidRule, Bid, Performance, Smoothing, rank_offers
from matching.domain.case_facts import BeforeAuction, EarlyPayment, ScoredFacts, SubmittedFacts
from matching.domain.case_matching import CaseMatching
from matching.domain.providers import CaseFile, CreditorPolicy, Provider, ProviderKind
from matching.domain.rules import MatchingRules
from matching.domain.status import Status
from matching.service_layer.unit_of_work import ClaimedTimer, MatchingUnitOfWork
from recouvra_shared.context import traceparent_var

Units = Callable[[], MatchingUnitOfWork]
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RULES = MatchingRules()


def provider(
    provider_id: str,
    siren: str,
    *,
    active: bool = True,
    regions: frozenset[str] = frozenset({"FR"}),
    serves_business: bool = True,
    min_amount_minor: int = 0,
) -> Provider:
    return Provider(
        provider_id=provider_id,
        name=f"Cabinet {provider_id}",
        kind=ProviderKind.COMMISSAIRE,
        siren=siren,
        regions=regions,
        serves_business=serves_business,
        serves_consumer=True,
        min_amount_minor=min_amount_minor,
        max_amount_minor=1_000_000,
        judicial=True,
        capacity=5,
        active=active,
    )


def waiting(case_id: str, creditor_id: str = "creditor-1", region: str = "FR-IDF") -> CaseMatching:
    """A case nobody could take: it waits for a provider, with no deadline."""
    case = CaseFile(case_id, creditor_id, "EUR", 480_000, True, "2026-09-01", region=region)
    return CaseMatching.open(case, CreditorPolicy(creditor_id), [], T0, RULES)


def opened(case_id: str, eligible: list[str]) -> CaseMatching:
    case = CaseFile(case_id, "creditor-1", "EUR", 480_000, True, "2026-09-01", segment="s")
    return CaseMatching.open(case, CreditorPolicy("creditor-1"), eligible, T0, RULES)


def offered(case_id: str, provider_id: str) -> CaseMatching:
    """A case whose quote the creditor accepted: offered to provider_id, who must answer."""
    matching = opened(case_id, [provider_id])
    matching.place_bid(Bid(provider_id, Decimal(10), 0, T0), T0)
    ranking = rank_offers(
        matching.case,
        matching.bids.values(),
        policy=CreditorPolicy("creditor-1"),
        performance={},
        platform=Performance(),
        smoothing=Smoothing(),
    )
    matching.award(ranking, T0, RULES)
    matching.accept_quote(T0, RULES)
    matching.take_events()
    return matching


class RepositoryContract:
    """Each test gets `units`, a factory of units of work over a fresh, empty store."""

    async def test_a_saved_case_reads_back_whole_and_arms_its_timer(self, units: Units) -> None:
        matching = opened("case-a", ["p1", "p2"])
        matching.place_bid(Bid("p1", Decimal("12.5"), 100, T0), T0)
        matching.take_events()
        async with units() as uow:
            assert await uow.cases.get("case-a") is None
            await uow.cases.save(matching, T0)
            await uow.commit()
        async with units() as uow:
            found = await uow.cases.get("case-a")
            assert await uow.timers.due(T0, 10) == []
            assert await uow.timers.due(matching.closes_at, 10) == ["case-a"]
        assert found is not None
        assert (found.status, found.round, found.eligible) == (Status.BIDDING, 1, ["p1", "p2"])
        assert found.bids["p1"].fee_percent == Decimal("12.5")
        assert found.closes_at == matching.closes_at
        assert found.take_events() == []

    async def test_the_fee_base_a_bid_stated_reads_back_with_the_quote_and_holding(
        self, units: Units
    ) -> None:
        matching = opened("case-b", ["p1"])
        matching.place_bid(Bid("p1", Decimal(10), 0, T0, fee_base="principal"), T0)
        ranking = rank_offers(
            matching.case,
            matching.bids.values(),
            policy=CreditorPolicy("creditor-1"),
            performance={},
            platform=Performance(),
            smoothing=Smoothing(),
        )
        matching.award(ranking, T0, RULES)
        matching.accept_quote(T0, RULES)
        matching.provider_accepts("p1", T0)
        matching.take_events()
        async with units() as uow:
            await uow.cases.save(matching, T0)
            await uow.commit()
        async with units() as uow:
            found = await uow.cases.get("case-b")
        assert found is not None
        assert found.quote is not None
        assert found.assignment is not None
        assert (found.quote.fee_base, found.assignment.fee_base) == ("principal", "principal")
        assert [h.fee_base for h in found.holdings] == ["principal"]

    async def test_nothing_stays_without_a_commit(self, units: Units) -> None:
        async with units() as uow:
            await uow.cases.save(opened("case-a", ["p1"]), T0)
            await uow.providers.save(provider("p1", "732829320"))
        async with units() as uow:
            assert await uow.cases.get("case-a") is None
            assert await uow.providers.get("p1") is None

    async def test_open_auctions_and_held_cases_are_found_by_state(self, units: Units) -> None:
        async with units() as uow:
            await uow.cases.save(opened("case-b", ["p1"]), T0)
            await uow.cases.save(opened("case-a", ["p1"]), T0)
            await uow.cases.save(offered("case-c", "p2"), T0)
            await uow.commit()
        async with units() as uow:
            assert [m.case.case_id for m in await uow.cases.open_auctions()] == [
                "case-a",
                "case-b",
            ]
            assert await uow.cases.open_auction_keys() == {("case-a", 1), ("case-b", 1)}
            unlocked = await uow.cases.unlocked(["case-b", "case-c", "nope"])
            assert [m.case.case_id for m in unlocked] == ["case-b", "case-c"]
            assert [m.case.case_id for m in await uow.cases.held_by("p2")] == ["case-c"]
            assert await uow.cases.held_by("p1") == []
            assert await uow.cases.held_counts() == {"p2": 1}
            offer = await uow.cases.get("case-c")
            assert offer is not None
            assert await uow.timers.claim("case-c", T0) is None
            due = offer.next_deadline()
            assert due is not None
            assert await uow.timers.claim("case-c", due) is not None

    async def test_a_timer_keeps_the_trace_of_the_work_that_armed_it(self, units: Units) -> None:
        armed_by = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        token = traceparent_var.set(armed_by)  # as a consumer adopts its event's trace
        try:
            async with units() as uow:
                await uow.cases.save(opened("case-a", ["p1"]), T0)
                await uow.commit()
        finally:
            traceparent_var.reset(token)
        token = traceparent_var.set(None)  # outside any trace
        try:
            async with units() as uow:
                await uow.cases.save(opened("case-b", ["p1"]), T0)
                await uow.commit()
        finally:
            traceparent_var.reset(token)
        async with units() as uow:
            later = T0 + timedelta(days=30)
            assert await uow.timers.claim("case-a", later) == ClaimedTimer(armed_by)
            assert await uow.timers.claim("case-b", later) == ClaimedTimer(None)

    async def test_a_closed_case_has_no_timer(self, units: Units) -> None:
        matching = opened("case-a", ["p1"])
        matching.withdraw(T0)
        async with units() as uow:
            await uow.cases.save(matching, T0)
            await uow.commit()
        async with units() as uow:
            assert await uow.timers.due(T0 + timedelta(days=400), 10) == []

    async def test_case_facts_arrive_in_any_order(self, units: Units) -> None:
        submitted = SubmittedFacts("creditor-1", "EUR", 480_000, True, "2026-09-01", "FR-IDF")
        scored = ScoredFacts("good-faith", "amicable", 64, "0.62", ("LATE_90", "B2B"), False)
        early = EarlyPayment("pay-1", 1_000, date(2026, 11, 20), False)
        async with units() as uow:
            assert await uow.facts.facts("case-a") == (None, None)
            assert await uow.facts.before_auction("case-a") == BeforeAuction()
            await uow.facts.save_scored("case-a", "creditor-1", scored)
            await uow.facts.save_before_auction(
                "case-a", "creditor-1", BeforeAuction().with_payment(early).after_withdrawal()
            )
            await uow.facts.save_submitted("case-a", "creditor-1", submitted)
            await uow.commit()
        async with units() as uow:
            assert await uow.facts.facts("case-a") == (submitted, scored)
            before = await uow.facts.before_auction("case-a")
        assert before == BeforeAuction(withdrawn=True, payments=(early,))

    async def test_providers_by_id_siren_and_activity(self, units: Units) -> None:
        async with units() as uow:
            await uow.providers.save(provider("p2", "732829320"))
            await uow.providers.save(provider("p1", "552100554"))
            await uow.providers.save(provider("p3", "443061841", active=False))
            await uow.commit()
        async with units() as uow:
            assert (await uow.providers.with_siren("552100554")) == provider("p1", "552100554")
            assert await uow.providers.with_siren("000000000") is None
            assert [p.provider_id for p in await uow.providers.active()] == ["p1", "p2"]
            assert await uow.providers.lock("p3") == provider("p3", "443061841", active=False)

    async def test_policies_read_back_as_entered_or_default(self, units: Units) -> None:
        policy = CreditorPolicy(
            "creditor-1", Decimal("12.00"), Decimal("9.5"), 30, frozenset({"p9"})
        )
        async with units() as uow:
            default = await uow.policies.get("creditor-1", 45)
            await uow.policies.save(policy)
            await uow.commit()
        assert default == CreditorPolicy("creditor-1", window_days=45)
        async with units() as uow:
            found = await uow.policies.get("creditor-1", 45)
        assert str(found.max_fee_percent) == "12"
        assert found.auto_accept_below_percent == Decimal("9.5")
        assert (found.window_days, found.excluded_providers) == (30, frozenset({"p9"}))

    async def test_auto_bid_rules_by_provider_a_name_replaces(self, units: Units) -> None:
        first = AutoBidRule("p1", Decimal("10.00"), segments=frozenset({"s"}))
        second = AutoBidRule("p1", Decimal("11.5"), 100, max_amount_minor=9_000)
        async with units() as uow:
            await uow.rules.save("b", first, T0)
            await uow.rules.save("a", first, T0)
            await uow.rules.save("a", second, T0)
            await uow.rules.save("x", AutoBidRule("p2", Decimal(20)), T0)
            await uow.commit()
        async with units() as uow:
            rules = await uow.rules.of_providers(["p1"])
        assert rules == {"p1": [second, first]}
        assert [str(r.fee_percent) for r in rules["p1"]] == ["11.5", "10"]  # as a person writes it

    async def test_a_providers_own_records_are_listed_per_segment(self, units: Units) -> None:
        async with units() as uow:
            for outcome in (
                events.ProviderOutcome("p1", "s2", 1, 1, Decimal("0.5"), 10, 1, 1),
                events.ProviderOutcome("p1", "s1", 1, 0, Decimal("0.25"), 0, 2, 1),
                events.ProviderOutcome("p2", "s1", 1, 1, Decimal(1), 4, 0, 0),
            ):
                await uow.records.add_outcome(outcome)
            await uow.commit()
        async with units() as uow:
            mine = await uow.records.of_provider("p1")
            none = await uow.records.of_provider("p3")
        assert [(r.segment, r.finished, r.recovered, r.offers) for r in mine] == [
            ("s1", 1, 0, 2),
            ("s2", 1, 1, 1),
        ]
        assert mine[1].recovery_rate == "1.0000"
        assert none == []

    async def test_a_providers_rules_are_listed_by_name_and_one_is_deleted(
        self, units: Units
    ) -> None:
        first = AutoBidRule("p1", Decimal("10.00"), segments=frozenset({"s"}))
        async with units() as uow:
            await uow.rules.save("b", first, T0)
            await uow.rules.save("a", AutoBidRule("p1", Decimal("12")), T0)
            await uow.rules.save("b", AutoBidRule("p2", Decimal(20)), T0)
            await uow.commit()
        async with units() as uow:
            named = await uow.rules.named("p1")
            gone = await uow.rules.delete("p1", "b")
            again = await uow.rules.delete("p1", "b")
            await uow.commit()
        assert [(n, str(r.fee_percent)) for n, r in named] == [("a", "12"), ("b", "10")]
        assert (gone, again) == (True, False)
        async with units() as uow:
            assert [n for n, _ in await uow.rules.named("p1")] == ["a"]
            assert [n for n, _ in await uow.rules.named("p2")] == ["b"]  # another's, untouched

    async def test_a_creditors_cases_are_read_by_creditor_up_to_a_limit(self, units: Units) -> None:
        async with units() as uow:
            for case_id, creditor in (("c-2", "cred-a"), ("c-1", "cred-a"), ("c-3", "cred-b")):
                await uow.cases.save(waiting(case_id, creditor), T0)
            await uow.commit()
        async with units() as uow:
            mine = await uow.cases.of_creditor("cred-a", 10)
            first = await uow.cases.of_creditor("cred-a", 1)
            nobody = await uow.cases.of_creditor("cred-z", 10)
        assert [m.case.case_id for m in mine] == ["c-1", "c-2"]
        assert [m.case.case_id for m in first] == ["c-1"]
        assert nobody == []

    async def test_outcomes_add_up_into_records_and_performance(self, units: Units) -> None:
        async with units() as uow:
            for outcome in (
                events.ProviderOutcome("p1", "s", 1, 1, Decimal("0.5"), 10, 1, 1),
                events.ProviderOutcome("p1", "s", 1, 0, Decimal("0.25"), 0, 1, 0),
                events.ProviderOutcome("p2", "s", 1, 1, Decimal(1), 4, 0, 0),
                events.ProviderOutcome("p1", "other", 1, 1, Decimal(1), 1, 0, 0),
            ):
                await uow.records.add_outcome(outcome)
            await uow.commit()
        async with units() as uow:
            record = await uow.records.record("p1", "s")
            empty = await uow.records.record("p3", "s")
            own, platform = await uow.records.performance("s")
        assert (record.finished, record.recovered, record.offers, record.offers_in_time) == (
            2,
            1,
            2,
            1,
        )
        assert record.amount_share_sum == Decimal("0.75")
        assert (empty.segment, empty.finished) == ("s", 0)
        assert {p: (r.finished, r.recovered) for p, r in own.items()} == {
            "p1": (2, 1),
            "p2": (1, 1),
        }
        assert (platform.finished, platform.recovered) == (3, 2)

    async def test_actions_read_back_in_the_order_they_happened(self, units: Units) -> None:
        later = events.ActionReported(
            "case-a", 1, "p1", "a-2", "call", T0 + timedelta(hours=2), "", 0, None
        )
        earlier = events.ActionReported(
            "case-a", 1, "p1", "a-1", "promise-to-pay", T0, "soon", 5_000, date(2026, 12, 1)
        )
        async with units() as uow:
            await uow.actions.add(later, T0 + timedelta(hours=3))
            await uow.actions.add(earlier, T0 + timedelta(hours=3))
            await uow.commit()
        async with units() as uow:
            assert await uow.actions.of_case("case-a") == [earlier, later]
            assert await uow.actions.of_case("case-b") == []

    async def test_only_the_waiting_cases_a_provider_may_cover_are_woken(
        self, units: Units
    ) -> None:
        later = T0 + timedelta(minutes=1)  # before the open auction's deadline
        async with units() as uow:
            await uow.cases.save(waiting("case-idf"), T0)
            await uow.cases.save(waiting("case-unknown-region", region=""), T0)
            await uow.cases.save(waiting("case-be", region="BE"), T0)
            await uow.cases.save(opened("case-open", ["p1"]), T0)
            await uow.commit()
        async with units() as uow:
            assert await uow.timers.due(later, 10) == []
            for elsewhere in (
                provider("p-ara", "1", regions=frozenset({"FR-ARA", "DE"})),
                provider("p-consumer", "2", regions=frozenset({"BE"}), serves_business=False),
                provider("p-large", "3", regions=frozenset({"BE"}), min_amount_minor=500_000),
            ):
                await uow.cases.wake_awaiting_for(elsewhere, later)
            await uow.commit()
        async with units() as uow:
            assert await uow.timers.due(later, 10) == ["case-unknown-region"]
            await uow.cases.wake_awaiting_for(
                provider("p-fr", "4", regions=frozenset({"FR"})), later
            )
            await uow.commit()
        async with units() as uow:
            due = await uow.timers.due(later, 10)
            assert sorted(due) == ["case-idf", "case-unknown-region"]
            assert await uow.timers.claim("case-idf", later) is not None

    async def test_a_creditors_waiting_cases_are_woken_and_a_case_that_opens_leaves(
        self, units: Units
    ) -> None:
        async with units() as uow:
            await uow.cases.save(waiting("case-a"), T0)
            await uow.cases.save(waiting("case-b", creditor_id="creditor-2"), T0)
            await uow.commit()
        async with units() as uow:
            await uow.cases.wake_awaiting_of("creditor-2", T0)
            await uow.commit()
        async with units() as uow:
            assert await uow.timers.due(T0, 10) == ["case-b"]
            reopened = await uow.cases.get("case-b")
            assert reopened is not None
            assert reopened.awaiting is not None
            assert reopened.awaiting.since == T0
            reopened.open_next_round(["p1"], T0, RULES)
            await uow.cases.save(reopened, T0)
            await uow.commit()
        a_minute_later = T0 + timedelta(minutes=1)
        async with units() as uow:
            await uow.cases.wake_awaiting_of("creditor-2", a_minute_later)
            await uow.cases.wake_awaiting_for(provider("p1", "1"), a_minute_later)
            await uow.commit()
        async with units() as uow:
            # case-b is bidding: its timer stays at its deadline; case-a still waits, is woken.
            assert await uow.timers.due(a_minute_later, 10) == ["case-a"]
            assert await uow.timers.due(T0 + RULES.bidding_period, 10) == ["case-a", "case-b"]

    async def test_what_a_unit_of_work_wrote_is_what_its_auctions_read(self, units: Units) -> None:
        """An auction reads the marketplace of its unit of work, its own changes included,
        however often it read it before (a consumer opens a batch of auctions on one)."""
        async with units() as uow:
            await uow.providers.save(provider("p1", "552100554"))
            await uow.commit()
        async with units() as uow:
            assert [p.provider_id for p in await uow.providers.active()] == ["p1"]
            assert await uow.rules.of_providers(["p1"]) == {}
            assert await uow.policies.get("creditor-1", 45) == CreditorPolicy("creditor-1")
            assert (await uow.records.performance("s"))[1] == Performance()
            assert await uow.cases.held_counts(reuse=True) == {}
            await uow.providers.save(provider("p2", "732829320"))
            await uow.providers.save(provider("p1", "552100554", active=False))
            rule = AutoBidRule("p2", Decimal(12))
            await uow.rules.save("a", rule, T0)
            await uow.policies.save(CreditorPolicy("creditor-1", window_days=30))
            await uow.records.add_outcome(
                events.ProviderOutcome("p2", "s", 1, 1, Decimal(1), 4, 0, 0)
            )
            await uow.cases.save(offered("case-a", "p2"), T0)
            assert [p.provider_id for p in await uow.providers.active()] == ["p2"]
            assert await uow.rules.of_providers(["p2"]) == {"p2": [rule]}
            assert (await uow.policies.get("creditor-1", 45)).window_days == 30
            assert (await uow.records.performance("s"))[1] == Performance(1, 1)
            assert await uow.cases.held_counts(reuse=True) == {"p2": 1}
            assert await uow.rules.delete("p2", "a") is True
            assert await uow.rules.of_providers(["p2"]) == {}

    async def test_a_case_leaving_a_holder_frees_its_slot_in_the_same_unit_of_work(
        self, units: Units
    ) -> None:
        async with units() as uow:
            await uow.cases.save(offered("case-a", "p1"), T0)
            await uow.cases.save(offered("case-b", "p1"), T0)
            await uow.commit()
        async with units() as uow:
            assert await uow.cases.held_counts(reuse=True) == {"p1": 2}
            matching = await uow.cases.get("case-a")
            assert matching is not None
            matching.withdraw(T0)
            await uow.cases.save(matching, T0)
            assert await uow.cases.held_counts(reuse=True) == {"p1": 1}
            assert await uow.cases.held_counts() == {"p1": 1}

    async def test_a_new_case_saved_twice_in_one_unit_of_work_keeps_no_stale_timer(
        self, units: Units
    ) -> None:
        async with units() as uow:
            assert await uow.cases.get("case-a") is None
            matching = opened("case-a", ["p1"])
            await uow.cases.save(matching, T0)
            matching.withdraw(T0)
            await uow.cases.save(matching, T0)
            await uow.commit()
        async with units() as uow:
            assert await uow.timers.due(T0 + timedelta(days=400), 10) == []

    async def test_what_a_unit_of_work_saved_it_reads_back_before_its_commit(
        self, units: Units
    ) -> None:
        """Saves may be written together at the end; every read in between sees them."""
        bidding = opened("case-a", ["p1", "p2"])
        bidding.place_bid(Bid("p1", Decimal("12.5"), 100, T0), T0)
        bidding.take_events()
        async with units() as uow:
            await uow.cases.save(bidding, T0)
            await uow.cases.save(offered("case-b", "p2"), T0)
            found = await uow.cases.get("case-a")
            assert found is not None
            assert found.bids["p1"].fee_percent == Decimal("12.5")
            assert [m.case.case_id for m in await uow.cases.open_auctions()] == ["case-a"]
            assert await uow.cases.held_counts() == {"p2": 1}
            assert await uow.timers.due(bidding.closes_at, 10) == ["case-a"]
            # Changed again after those reads: the last save is what is kept.
            found.withdraw(T0)
            await uow.cases.save(found, T0)
            assert await uow.cases.open_auction_keys() == set()
            await uow.commit()
        async with units() as uow:
            stored = await uow.cases.get("case-a")
            assert stored is not None
            assert stored.status is Status.CLOSED
            assert await uow.timers.due(T0 + timedelta(days=400), 10) == ["case-b"]

    async def test_many_cases_facts_stored_at_once_read_as_each_stored_alone(
        self, units: Units
    ) -> None:
        """A transaction of many facts stores them in one go; the last of a case's wins, and
        a handler storing the same fact again after it changes nothing."""
        first = SubmittedFacts("creditor-1", "EUR", 480_000, True, "2026-09-01", "FR-IDF")
        corrected = SubmittedFacts("creditor-1", "EUR", 450_000, True, "2026-09-01", "FR-IDF")
        other = SubmittedFacts("creditor-2", "EUR", 90_000, False, "2026-10-01", "FR-BRE")
        scored = ScoredFacts("good-faith", "amicable", 64, "0.62", ("LATE_90", "B2B"), False)
        async with units() as uow:
            await uow.facts.save_all_scored([("case-b", "creditor-2", scored)])
            await uow.facts.save_all_submitted(
                [
                    ("case-a", "creditor-1", first),
                    ("case-b", "creditor-2", other),
                    ("case-a", "creditor-1", corrected),
                ]
            )
            assert await uow.facts.facts("case-a") == (corrected, None)
            assert await uow.facts.facts("case-b") == (other, scored)
            await uow.facts.save_submitted("case-b", "creditor-2", other)  # as its handler does
            await uow.facts.save_scored("case-c", "creditor-1", scored)
            await uow.commit()
        async with units() as uow:
            assert await uow.facts.facts("case-a") == (corrected, None)
            assert await uow.facts.facts("case-b") == (other, scored)
            assert await uow.facts.facts("case-c") == (None, scored)

    async def test_held_cases_read_as_stored_and_a_save_after_the_hold_is_what_is_read(
        self, units: Units
    ) -> None:
        async with units() as uow:
            await uow.cases.save(offered("case-a", "p1"), T0)
            await uow.cases.save(opened("case-b", ["p1", "p2"]), T0)
            await uow.commit()
        withdrawn = opened("case-b", ["p1", "p2"])
        withdrawn.withdraw(T0)
        async with units() as uow:
            await uow.cases.hold(["case-b", "case-z", "case-a"])
            held = await uow.cases.get("case-a")
            assert held is not None
            assert (held.status, held.holder) == (Status.OFFERED, "p1")
            assert await uow.cases.get("case-z") is None
            await uow.cases.save(withdrawn, T0)  # without reading what was held first
            assert await uow.cases.open_auctions() == []  # a read: saves are written first
            found = await uow.cases.get("case-b")
            assert found is not None
            assert found.status is Status.CLOSED
            await uow.commit()
        async with units() as uow:
            stored = await uow.cases.get("case-b")
            assert stored is not None
            assert stored.status is Status.CLOSED
