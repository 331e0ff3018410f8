"""What a provider does on the marketplace, on fakes: bids, rules, offered and held cases."""

from __future__ import annotations

from datetime import UTC, timedelta
from decimal import Decimal

import pytest

from matching.domain.activity import business_day
from matching.domain.commands import (
    AnswerQuote,
    DeclineAssignment,
    DeleteAutoBidRule,
    PlaceBid,
    PromiseToPay,
    ReleaseCase,
    ReportAction,
    ReportPayment,
    SetAutoBidRule,
    WithdrawBid,
)
from matching.domain.errors import InvalidField, NotFound, StateConflict
from matching.domain.providers import new_provider
from matching.domain.status import Status
from matching.service_layer import creditor_commands, provider_commands
from recouvra.events.v1 import assignment_events_pb2 as assignment_events
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra_shared.events import unpack
from services.matching.tests.unit.matching_market import CREDITOR, Market, siren


async def bid(m: Market, provider_id: str, case_id: str, fee: str, **fields: object) -> None:
    command = PlaceBid(provider_id, case_id, Decimal(fee), 0, "EUR", **fields)  # type: ignore[arg-type]
    await m.committed(lambda uow: provider_commands.place_bid(command, uow, **m.deps))


async def test_one_siren_belongs_to_one_provider_and_a_profile_can_be_updated() -> None:
    m = Market()
    await m.register("p1", 1)
    with pytest.raises(InvalidField) as refused:
        await m.register("p2", 1)
    assert refused.value.field == "siren"
    await m.register("p1", 1, capacity=3)
    assert m.database.state.providers["p1"].capacity == 3
    assert set(m.database.state.providers) == {"p1"}


async def test_a_provider_lists_the_auctions_it_may_bid_in_and_a_watcher_only_new_ones() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("consumer-only", 2, serves_business=False)
    await m.submit_scored_case("case-a")
    async with m.database.unit_of_work() as uow:
        mine = await provider_commands.open_auctions("p1", uow, clock=m.clock)
        none = await provider_commands.open_auctions("consumer-only", uow, clock=m.clock)
        with pytest.raises(NotFound):
            await provider_commands.open_auctions("stranger", uow, clock=m.clock)
        fresh, seen = await provider_commands.auctions_opened_since("p1", set(), uow, clock=m.clock)
        again, _ = await provider_commands.auctions_opened_since("p1", seen, uow, clock=m.clock)
    assert [a.case.case_id for a in mine] == ["case-a"]
    assert none == []
    assert ([a.case.case_id for a in fresh], seen, again) == (["case-a"], {("case-a", 1)}, [])


async def test_a_bid_is_placed_replaced_and_withdrawn_while_bidding_is_open() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    await bid(m, "p1", "case-a", "12.5")
    with pytest.raises(StateConflict):
        await bid(m, "p1", "case-a", "11")
    await bid(m, "p1", "case-a", "11", replace=True)
    assert str(m.case("case-a").bids["p1"].fee_percent) == "11"
    await m.committed(
        lambda uow: provider_commands.withdraw_bid(WithdrawBid("p1", "case-a"), uow, **m.deps)
    )
    assert m.case("case-a").bids == {}
    assert m.published().count("bid-placed") == 2


@pytest.mark.parametrize(
    ("fee", "fixed", "currency", "field"),
    [
        ("0.5", 0, "EUR", "fee"),
        ("12.345", 0, "EUR", "fee"),
        ("12", 500, "USD", "fixed_fee.currency"),
        ("12", 480_000, "EUR", "fixed_fee.minor_units"),
    ],
)
async def test_a_bad_bid_is_refused_naming_the_field_and_changes_nothing(
    fee: str, fixed: int, currency: str, field: str
) -> None:
    m = Market()
    await m.register("p1", 1)
    await m.submit_scored_case("case-a")
    command = PlaceBid("p1", "case-a", Decimal(fee), fixed, currency)
    with pytest.raises(InvalidField) as refused:
        await m.committed(lambda uow: provider_commands.place_bid(command, uow, **m.deps))
    assert refused.value.field == field
    assert m.case("case-a").bids == {}


async def test_only_an_eligible_registered_provider_may_bid() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("consumer-only", 2, serves_business=False)
    await m.submit_scored_case("case-a")
    for provider_id, case_id in (("consumer-only", "case-a"), ("p1", "no-case")):
        with pytest.raises(NotFound):
            await bid(m, provider_id, case_id, "10")
    with pytest.raises(NotFound):
        await bid(m, "stranger", "case-a", "10")


async def test_an_auto_bid_rule_needs_a_name_and_valid_criteria() -> None:
    m = Market()
    await m.register("p1", 1)
    for command, field in (
        (SetAutoBidRule("p1", "  ", Decimal(10)), "name"),
        (SetAutoBidRule("p1", "r", Decimal(60)), "fee"),
        (SetAutoBidRule("p1", "r", Decimal(10), debtor_types=("robot",)), "debtor_types"),
    ):
        with pytest.raises(InvalidField) as refused:
            await m.committed(
                lambda uow, c=command: provider_commands.set_auto_bid_rule(c, uow, **m.deps)
            )
        assert refused.value.field == field
    rule = SetAutoBidRule("p1", " consumer ", Decimal(9), debtor_types=("consumer",))
    name = await m.committed(lambda uow: provider_commands.set_auto_bid_rule(rule, uow, **m.deps))
    assert name == "consumer"
    await m.submit_scored_case("case-b2b")
    assert m.case("case-b2b").bids == {}  # the rule takes consumer cases only


async def test_a_provider_lists_its_rules_and_a_deleted_one_bids_no_more() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    for command in (
        SetAutoBidRule("p1", "any", Decimal(9)),
        SetAutoBidRule("p1", "big", Decimal("7.5"), min_amount_minor=500_000),
        SetAutoBidRule("p2", "any", Decimal(12)),
    ):
        await m.committed(
            lambda uow, c=command: provider_commands.set_auto_bid_rule(c, uow, **m.deps)
        )
    listed = await m.committed(lambda uow: provider_commands.auto_bid_rules("p1", uow))
    assert [(n, str(r.fee_percent), r.min_amount_minor) for n, r in listed] == [
        ("any", "9", 0),
        ("big", "7.5", 500_000),
    ]
    gone = DeleteAutoBidRule("p1", " any ")
    assert (
        await m.committed(lambda uow: provider_commands.delete_auto_bid_rule(gone, uow, **m.deps))
        == "any"
    )
    with pytest.raises(NotFound):  # twice, or a name it never had
        await m.committed(lambda uow: provider_commands.delete_auto_bid_rule(gone, uow, **m.deps))
    await m.submit_scored_case("case-1")
    assert set(m.case("case-1").bids) == {"p2"}  # p1's deleted rule bid nothing; p2's did
    others = await m.committed(lambda uow: provider_commands.auto_bid_rules("p2", uow))
    assert [n for n, _ in others] == ["any"]


async def test_offered_then_held_cases_and_a_decline_passes_to_the_next_offer() -> None:
    m = Market()
    for n, provider_id in enumerate(("p1", "p2"), start=1):
        await m.register(provider_id, n)
    await m.auto_rule("p1", "10")
    await m.auto_rule("p2", "11")
    await m.submit_scored_case("case-a")
    await m.close_bidding()
    await m.committed(
        lambda uow: creditor_commands.answer_quote(
            AnswerQuote(CREDITOR, "case-a", accept=True), uow, **m.deps
        )
    )
    async with m.database.unit_of_work() as uow:
        offered = await provider_commands.held_cases("p1", uow)
    assert [(c.case.case_id, c.status) for c in offered] == [("case-a", Status.OFFERED)]
    with pytest.raises(NotFound):
        await m.committed(
            lambda uow: provider_commands.decline_assignment(
                DeclineAssignment("p2", "case-a"), uow, **m.deps
            )
        )
    await m.committed(
        lambda uow: provider_commands.decline_assignment(
            DeclineAssignment("p1", "case-a"), uow, **m.deps
        )
    )
    case = m.case("case-a")
    assert (case.status, case.quote and case.quote.provider_id) == (Status.QUOTED, "p2")


async def test_a_promise_extends_the_window_up_to_the_cap_and_a_release_rotates() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    ends = m.case("case-a").assignment.window_ends_at  # type: ignore[union-attr]
    promise = PromiseToPay("p1", "case-a")
    for _ in range(2):
        await m.committed(lambda uow: provider_commands.promise_to_pay(promise, uow, **m.deps))
    assert m.case("case-a").assignment.window_ends_at == ends + timedelta(days=30)  # type: ignore[union-attr]
    with pytest.raises(StateConflict):
        await m.committed(lambda uow: provider_commands.promise_to_pay(promise, uow, **m.deps))
    # Each extension is a fact, published once with the window's new end; the refused one is not.
    extended = [
        unpack(e.envelope, matching_events.WindowExtended)
        for e in m.database.state.outbox
        if e.envelope.event_type == "window-extended"
    ]
    assert [(x.provider_id, x.round) for x in extended] == [("p1", 1), ("p1", 1)]
    assert [x.window_ends_at.ToDatetime(tzinfo=UTC) for x in extended] == [
        ends + timedelta(days=15),  # type: ignore[operator]
        ends + timedelta(days=30),  # type: ignore[operator]
    ]
    await m.committed(
        lambda uow: provider_commands.release_case(ReleaseCase("p1", "case-a"), uow, **m.deps)
    )
    case = m.case("case-a")
    assert (case.status, case.round, case.eligible) == (Status.BIDDING, 2, ["p2"])
    assert m.published()[-3:] == ["case-recalled", "case-rotated", "auction-opened"]


async def test_the_holder_reports_actions_the_creditor_follows() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    m.clock.advance(timedelta(hours=1))
    call = ReportAction("p1", "case-a", "call", None, "reached the debtor")
    _, action_id = await m.committed(
        lambda uow: provider_commands.report_action(call, uow, **m.deps)
    )
    bad = ReportAction("p1", "case-a", "séance", None)
    with pytest.raises(InvalidField) as refused:
        await m.committed(lambda uow: provider_commands.report_action(bad, uow, **m.deps))
    assert refused.value.field == "kind"
    other = ReportAction("p2", "case-a", "call", None)
    with pytest.raises(NotFound):
        await m.committed(lambda uow: provider_commands.report_action(other, uow, **m.deps))
    async with m.database.unit_of_work() as uow:
        _, actions = await creditor_commands.case_activity(CREDITOR, "case-a", uow)
    assert [(a.action_id, a.kind, a.note) for a in actions] == [
        (action_id, "call", "reached the debtor")
    ]
    assert m.published()[-1] == "action-reported"


async def test_a_reported_payment_is_checked_then_kept_as_the_holders_claim() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.assign("case-a", "p1")
    today = business_day(m.clock.now()).isoformat()

    async def report(provider_id: str, **fields: object) -> object:
        values: dict[str, object] = {
            "amount_minor": 100_000,
            "currency": "EUR",
            "paid_on": today,
            "settles_in_full": False,
            "reference": "R-1",
            **fields,
        }
        command = ReportPayment(provider_id, "case-a", **values)  # type: ignore[arg-type]
        return await m.committed(
            lambda uow: provider_commands.report_payment(command, uow, **m.deps)
        )

    with pytest.raises(NotFound):
        await report("p2")
    for fields, field in (
        ({"reference": " "}, "reference"),
        ({"reference": "x" * 65}, "reference"),
        ({"currency": "USD"}, "amount.currency"),
        ({"amount_minor": 0}, "amount.minor_units"),
        ({"paid_on": "2030-01-01"}, "paid_on"),
        ({"amount_minor": 480_001}, "amount.minor_units"),
    ):
        with pytest.raises(InvalidField) as refused:
            await report("p1", **fields)
        assert refused.value.field == field
    await report("p1")
    await report("p1")  # the same reference is the same claim
    case = m.case("case-a")
    assert [(c.reference, c.provider_id, c.state.value) for c in case.claims] == [
        ("R-1", "p1", "claimed")
    ]
    assert (case.payments, case.recovered_minor) == ([], 0)


def test_a_bad_profile_is_refused_before_it_reaches_the_directory() -> None:
    with pytest.raises(InvalidField) as refused:
        new_provider(
            provider_id="p1",
            name="Cabinet",
            kind="agency",
            siren=siren(1),
            regions=["FR"],
            serves_business=True,
            serves_consumer=True,
            min_amount_minor=0,
            max_amount_minor=10,
            judicial=True,
            capacity=1,
        )
    assert refused.value.field == "judicial"


async def test_fees_leave_matching_exactly_in_basis_points() -> None:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p2", "7.25")
    await m.submit_scored_case("case-a")
    await bid(m, "p1", "case-a", "12.5")
    await m.assign("case-a", "p2")
    carried = {
        "bid-placed": (matching_events.BidPlaced, "fee"),
        "quote-issued": (matching_events.QuoteIssued, "fee"),
        "case-assigned": (assignment_events.CaseAssigned, "success_fee"),
    }
    fees = []
    for event in m.database.state.outbox:
        kind = event.envelope.event_type
        if kind == "auto-bids-placed":
            placed = unpack(event.envelope, matching_events.AutoBidsPlaced)
            fees.extend((kind, bid.fee.basis_points) for bid in placed.bids)
        elif (carries := carried.get(kind)) is not None:
            message, field = carries
            fee = getattr(unpack(event.envelope, message), field)
            fees.append((kind, fee.basis_points))
    assert fees == [
        ("auto-bids-placed", 725),
        ("bid-placed", 1250),
        ("quote-issued", 725),
        ("case-assigned", 725),
    ]
