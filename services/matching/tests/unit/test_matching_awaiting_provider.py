"""A case nobody may take waits for a provider and keeps its rounds, on fakes: it opens its round
when a provider registers, changes its profile to cover it, or frees a slot."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from matching.domain.availability import WaitCause, eligibility
from matching.domain.case_facts import CaseWithdrawnFact
from matching.domain.commands import PlaceBid, ReleaseCase, SetCreditorPolicy
from matching.domain.providers import CaseFile, CreditorPolicy, Provider, ProviderKind
from matching.domain.status import Status
from matching.entrypoints import replies
from matching.service_layer import creditor_commands, incoming_facts, provider_commands
from services.matching.tests.unit.matching_market import CREDITOR, T0, Market

WINDOW = timedelta(days=45)


async def wait_through_bidding_periods(m: Market, periods: int = 4) -> None:
    """Time passes, many bidding periods long; the timer loop runs after each."""
    for _ in range(periods):
        m.clock.advance(m.config.rules.bidding_period)
        assert await m.timers().tick() == 0


async def test_a_case_nobody_may_take_waits_and_uses_up_no_round() -> None:
    m = Market()
    await m.submit_scored_case("case-a")
    await wait_through_bidding_periods(m)
    case = m.case("case-a")
    assert (case.status, case.round) == (Status.AWAITING_PROVIDER, 0)
    assert case.awaiting is not None
    assert (case.awaiting.since, case.awaiting.cause) == (T0, WaitCause.NO_PROVIDER)
    assert case.awaiting.reason == "no provider takes cases yet"
    assert m.published() == ["case-awaiting-provider"]
    # Looked at again now and then, in case a provider change raced with the start of the wait.
    recheck = m.config.rules.awaiting_recheck
    assert m.database.state.timers["case-a"] == T0 + recheck
    m.clock.advance(recheck)
    assert await m.timers().tick() == 1
    case = m.case("case-a")
    assert (case.status, case.round) == (Status.AWAITING_PROVIDER, 0)
    assert case.awaiting is not None
    assert case.awaiting.since == T0
    assert m.published() == ["case-awaiting-provider"]


async def test_a_new_provider_opens_round_one_of_a_waiting_case() -> None:
    m = Market()
    await m.submit_scored_case("case-a")
    await wait_through_bidding_periods(m)
    await m.register("p1", 1)
    assert m.database.state.timers["case-a"] == m.clock.now()
    assert await m.timers().tick() == 1
    case = m.case("case-a")
    assert (case.status, case.round, case.eligible, case.awaiting) == (
        Status.BIDDING,
        1,
        ["p1"],
        None,
    )
    assert m.published() == ["case-awaiting-provider", "auction-opened"]
    # Then round 1 runs as usual.
    bid = PlaceBid("p1", "case-a", Decimal(9), 0, "EUR")
    await m.committed(lambda uow: provider_commands.place_bid(bid, uow, **m.deps))
    await m.assign("case-a", "p1")
    assert (m.case("case-a").status, m.case("case-a").round) == (Status.ASSIGNED, 1)


async def test_a_provider_updated_to_cover_the_case_opens_its_round() -> None:
    m = Market()
    await m.register("p1", 1, regions=["FR-ARA"])
    await m.submit_scored_case("case-a")  # the debtor is in FR-IDF
    case = m.case("case-a")
    assert case.awaiting is not None
    assert case.awaiting.cause is WaitCause.NOT_COVERED
    assert case.awaiting.reason == "no provider covers the debtor's region (FR-IDF) yet"
    await m.register("p1", 1, regions=["FR-ARA", "FR-IDF"])
    assert await m.timers().tick() == 1
    assert (m.case("case-a").status, m.case("case-a").round) == (Status.BIDDING, 1)


async def test_a_provider_that_cannot_cover_the_case_does_not_wake_it() -> None:
    m = Market()
    await m.submit_scored_case("case-a", amount_minor=480_000)
    await m.register("small", 1, max_amount_minor=100_000)
    await m.register("elsewhere", 2, regions=["BE"])
    await m.register("consumers", 3, serves_business=False)
    assert m.database.state.timers == {"case-a": T0 + m.config.rules.awaiting_recheck}
    case = m.case("case-a")
    assert case.awaiting is not None
    assert case.awaiting.since == T0


async def test_a_freed_slot_opens_the_round_of_a_case_waiting_for_capacity() -> None:
    m = Market()
    await m.register("p1", 1, capacity=1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    await m.submit_scored_case("case-b")
    waiting = m.case("case-b")
    assert (waiting.status, waiting.round) == (Status.AWAITING_PROVIDER, 0)
    assert waiting.awaiting is not None
    assert waiting.awaiting.cause is WaitCause.AT_CAPACITY
    assert waiting.awaiting.reason == "every provider that covers this case is at capacity"
    await wait_through_bidding_periods(m)

    await m.committed(
        lambda uow: provider_commands.release_case(ReleaseCase("p1", "case-a"), uow, **m.deps)
    )
    # case-a now waits too: its only provider already held it. It keeps rounds 2 and 3.
    released = m.case("case-a")
    assert (released.status, released.round) == (Status.AWAITING_PROVIDER, 1)
    assert released.awaiting is not None
    assert released.awaiting.cause is WaitCause.ALREADY_HELD
    assert await m.timers().tick() == 1
    opened = m.case("case-b")
    assert (opened.status, opened.round, opened.eligible) == (Status.BIDDING, 1, ["p1"])
    assert m.case("case-a").status is Status.AWAITING_PROVIDER


async def test_a_rotated_case_keeps_its_remaining_rounds_until_a_new_provider_comes() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    m.clock.advance(WINDOW)
    assert await m.timers().tick() == 1
    for _ in range(3):
        m.clock.advance(WINDOW)
        await m.timers().tick()
    case = m.case("case-a")
    assert (case.status, case.round) == (Status.AWAITING_PROVIDER, 1)
    assert "case-exhausted" not in m.published()
    await m.register("p2", 2)
    await m.timers().tick()
    case = m.case("case-a")
    assert (case.status, case.round, case.eligible) == (Status.BIDDING, 2, ["p2"])


async def test_a_creditor_that_stops_excluding_a_provider_opens_the_round() -> None:
    m = Market()
    await m.register("p1", 1)
    exclude = SetCreditorPolicy(CREDITOR, None, None, 0, ("p1",))
    await m.committed(lambda uow: creditor_commands.set_policy(exclude, uow, **m.deps))
    await m.submit_scored_case("case-a")
    case = m.case("case-a")
    assert case.awaiting is not None
    assert case.awaiting.cause is WaitCause.EXCLUDED
    include = SetCreditorPolicy(CREDITOR, None, None, 0, ())
    await m.committed(lambda uow: creditor_commands.set_policy(include, uow, **m.deps))
    assert await m.timers().tick() == 1
    assert (m.case("case-a").status, m.case("case-a").round) == (Status.BIDDING, 1)


async def test_a_waiting_case_can_be_withdrawn_and_is_then_never_opened() -> None:
    m = Market()
    await m.submit_scored_case("case-a")
    fact = CaseWithdrawnFact("case-a", CREDITOR)
    await m.committed(lambda uow: incoming_facts.case_withdrawn(fact, uow, **m.deps))
    await m.register("p1", 1)
    assert await m.timers().tick() == 0
    assert (m.case("case-a").status, m.case("case-a").round) == (Status.CLOSED, 0)


async def test_the_creditor_reads_why_and_since_when_on_the_quote_and_the_activity() -> None:
    m = Market()
    await m.register("consumers", 1, serves_business=False)
    await m.submit_scored_case("case-a")
    m.clock.advance(timedelta(hours=2))
    async with m.database.unit_of_work() as uow:
        view = await creditor_commands.quote(CREDITOR, "case-a", uow)
        case, actions = await creditor_commands.case_activity(CREDITOR, "case-a", uow)
    quote = replies.quote_reply(view)
    activity = replies.case_activity(case, actions)
    assert (quote.status, quote.round, quote.provider_id) == ("awaiting-provider", 0, "")
    for awaiting in (quote.awaiting_provider, activity.awaiting_provider):
        assert awaiting.since.ToDatetime().replace(tzinfo=T0.tzinfo) == T0
        assert awaiting.next_round == 1
        assert awaiting.cause == "not-covered"
        assert awaiting.reason == "no provider covers business debtors yet"
    await m.register("p1", 2)
    await m.timers().tick()
    async with m.database.unit_of_work() as uow:
        view = await creditor_commands.quote(CREDITOR, "case-a", uow)
    assert not replies.quote_reply(view).HasField("awaiting_provider")


def test_the_reason_names_what_no_provider_covers_or_what_holds_back_those_that_do() -> None:
    case = CaseFile(
        "case-a",
        CREDITOR,
        "EUR",
        480_000,
        True,
        "2026-09-01",
        "FR-IDF",
        strategy="small-claims-procedure",
    )
    idf_agency = profile("agency", kind=ProviderKind.AGENCY, judicial=False)
    ara_commissaire = profile("ara", regions=frozenset({"FR-ARA"}))
    assert why(case, [idf_agency]) == (
        WaitCause.NOT_COVERED,
        "no provider covers the court route this case needs nor this case's route (it needs a"
        " commissaire) yet",
    )
    assert why(case, [idf_agency, ara_commissaire]) == (
        WaitCause.NOT_COVERED,
        "no single provider covers all of business debtors, this amount, the debtor's region"
        " (FR-IDF), the court route this case needs, this case's route (it needs a commissaire)"
        " yet",
    )
    full, held_before, excluded = profile("full"), profile("held"), profile("excluded")
    assert why(
        case,
        [full, held_before, excluded],
        held={"full": 1},
        past_holders=["held"],
        excluded=frozenset({"excluded"}),
    ) == (
        WaitCause.AT_CAPACITY,
        "no provider that covers this case can take it now (1 at capacity, 1 excluded by your"
        " quote policy, 1 already held it)",
    )
    assert why(case, [held_before], past_holders=["held"]) == (
        WaitCause.ALREADY_HELD,
        "every provider that covers this case has already held it",
    )
    assert eligibility(
        [full], case, held={}, policy=CreditorPolicy(CREDITOR), past_holders=()
    ).providers == ("full",)


def profile(
    provider_id: str,
    *,
    kind: ProviderKind = ProviderKind.COMMISSAIRE,
    judicial: bool = True,
    regions: frozenset[str] = frozenset({"FR"}),
) -> Provider:
    return Provider(
        provider_id, provider_id, kind, "732829320", regions, True, True, 0, 10_000_000, judicial, 1
    )


def why(
    case: CaseFile,
    providers: list[Provider],
    *,
    held: dict[str, int] | None = None,
    past_holders: list[str] | None = None,
    excluded: frozenset[str] = frozenset(),
) -> tuple[WaitCause, str]:
    found = eligibility(
        providers,
        case,
        held=held or {},
        policy=CreditorPolicy(CREDITOR, excluded_providers=excluded),
        past_holders=past_holders or [],
    )
    assert found.providers == ()
    assert found.why_none is not None
    return found.why_none.cause, found.why_none.reason
