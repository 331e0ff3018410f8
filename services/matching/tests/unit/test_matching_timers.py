"""What happens when a deadline passes, on fakes: bidding ends, an offer lapses, a window ends."""

from __future__ import annotations

from datetime import timedelta

from matching.domain.commands import AnswerQuote
from matching.domain.status import Status
from matching.service_layer import creditor_commands, timers
from services.matching.tests.unit.matching_market import CREDITOR, Market

WINDOW = timedelta(days=45)


async def fire(m: Market, case_id: str) -> bool:
    return await m.committed(
        lambda uow: timers.fire_timer(case_id, uow, clock=m.clock, config=m.config)
    )


async def held_market() -> Market:
    m = Market()
    for n, provider_id in enumerate(("p1", "p2", "p3", "p4"), start=1):
        await m.register(provider_id, n)
        await m.auto_rule(provider_id, str(10 + n))
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    return m


async def test_a_timer_fires_only_once_its_deadline_passed() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    assert not await fire(m, "case-a")
    assert not await fire(m, "no-case")
    async with m.database.unit_of_work() as uow:
        assert await timers.due_cases(uow, clock=m.clock, limit=10) == []
    m.clock.advance(m.config.rules.bidding_period)
    async with m.database.unit_of_work() as uow:
        assert await timers.due_cases(uow, clock=m.clock, limit=10) == ["case-a"]


async def test_when_bidding_ends_the_best_offer_is_quoted() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "12")
    await m.auto_rule("p2", "10")
    await m.submit_scored_case("case-a")
    m.clock.advance(m.config.rules.bidding_period)
    assert await fire(m, "case-a")
    case = m.case("case-a")
    assert (case.status, case.quote and case.quote.provider_id) == (Status.QUOTED, "p2")
    assert "case-a" not in m.database.state.timers  # the creditor answers in its own time
    assert m.published()[-1] == "quote-issued"


async def test_when_bidding_ends_without_offers_the_next_round_opens() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    assert await m.close_bidding() == 1
    case = m.case("case-a")
    assert (case.status, case.round) == (Status.BIDDING, 2)


async def test_when_the_accept_deadline_passes_the_next_offer_is_quoted() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.auto_rule("p2", "11")
    await m.submit_scored_case("case-a")
    await m.close_bidding()
    command = AnswerQuote(CREDITOR, "case-a", accept=True)
    await m.committed(lambda uow: creditor_commands.answer_quote(command, uow, **m.deps))
    m.clock.advance(m.config.rules.provider_accept_period)
    assert await m.timers().tick() == 1
    case = m.case("case-a")
    assert (case.status, case.quote and case.quote.provider_id) == (Status.QUOTED, "p2")
    assert m.database.state.records[("p1", "good-faith")].offers_in_time == 0


async def test_when_a_window_ends_the_case_is_recalled_and_rotates_to_the_others() -> None:
    m = await held_market()
    m.clock.advance(WINDOW - timedelta(seconds=1))
    assert await m.timers().tick() == 0
    m.clock.advance(timedelta(seconds=1))
    assert await m.timers().tick() == 1
    case = m.case("case-a")
    assert (case.status, case.round, case.past_holders) == (Status.BIDDING, 2, ["p1"])
    assert "p1" not in case.eligible
    # p2, p3 and p4 bid by their rules as the round opens: one event for the three
    assert m.published()[-4:] == [
        "case-recalled",
        "case-rotated",
        "auction-opened",
        "auto-bids-placed",
    ]
    assert m.database.state.records[("p1", "good-faith")].finished == 1


async def test_after_the_last_round_the_case_is_exhausted_and_no_timer_is_left() -> None:
    m = await held_market()
    for holder in ("p2", "p3"):
        m.clock.advance(WINDOW)
        await m.timers().tick()
        await m.assign("case-a", holder)
    m.clock.advance(WINDOW)
    assert await m.timers().tick() == 1
    case = m.case("case-a")
    assert (case.status, case.round) == (Status.EXHAUSTED, 3)
    assert "case-a" not in m.database.state.timers
    assert m.published()[-1] == "case-exhausted"


async def test_the_loop_says_more_is_waiting_only_after_a_full_batch() -> None:
    m = Market()
    await m.register("p1", 1)
    for case_id in ("case-a", "case-b", "case-c"):
        await m.submit_scored_case(case_id)
    m.clock.advance(m.config.rules.bidding_period)
    loop = m.timers()
    loop.batch_size = 2
    assert await loop.step() is True
    assert await loop.step() is False
    assert all(m.case(c).round == 2 for c in ("case-a", "case-b", "case-c"))
