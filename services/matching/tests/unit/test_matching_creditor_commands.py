"""What a creditor does, on fakes: reads and answers quotes, sets its policy, follows its case."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal

import pytest

from matching.domain.commands import AnswerQuote, SetCreditorPolicy
from matching.domain.errors import InvalidField, NotFound, StateConflict
from matching.domain.status import Status
from matching.service_layer import creditor_commands
from matching.service_layer.creditor_commands import QuoteView
from recouvra.events.v1 import matching_events_pb2 as matching_events
from recouvra_shared.events import unpack
from services.matching.tests.unit.matching_market import CREDITOR, Market


async def answer(m: Market, case_id: str, *, accept: bool, creditor: str = CREDITOR) -> QuoteView:
    command = AnswerQuote(creditor, case_id, accept=accept)
    return await m.committed(lambda uow: creditor_commands.answer_quote(command, uow, **m.deps))


async def set_policy(m: Market, **fields: object) -> None:
    fees = {k: Decimal(str(v)) for k, v in fields.items() if k.endswith("_percent")}
    command = SetCreditorPolicy(CREDITOR, **(fields | fees))  # type: ignore[arg-type]
    await m.committed(lambda uow: creditor_commands.set_policy(command, uow, **m.deps))


async def quoted_market() -> Market:
    m = Market()
    await m.register("p1", 1)
    await m.register("p2", 2)
    await m.auto_rule("p1", "10")
    await m.auto_rule("p2", "11")
    await m.submit_scored_case("case-a")
    await m.close_bidding()
    return m


async def test_the_creditor_sees_the_quoted_provider_and_its_record_and_no_one_else_does() -> None:
    m = await quoted_market()
    async with m.database.unit_of_work() as uow:
        view = await creditor_commands.quote(CREDITOR, "case-a", uow)
        with pytest.raises(NotFound):
            await creditor_commands.quote("creditor-2", "case-a", uow)
    assert view.matching.status is Status.QUOTED
    assert view.provider is not None
    assert view.provider.provider_id == "p1"
    assert view.record is not None
    assert view.record.finished == 0
    assert "best expected net recovery among 2 offer(s)" in view.matching.quote.why  # type: ignore[union-attr]


def offers_published(m: Market) -> list[matching_events.CaseOffered]:
    return [
        unpack(e.envelope, matching_events.CaseOffered)
        for e in m.database.state.outbox
        if e.envelope.event_type == "case-offered"
    ]


async def test_accepting_a_quote_publishes_the_offer_once_with_its_deadline() -> None:
    m = await quoted_market()
    assert offers_published(m) == []
    await answer(m, "case-a", accept=True)
    with pytest.raises(StateConflict):
        await answer(m, "case-a", accept=True)  # a second click offers nothing more
    [offered] = offers_published(m)
    assert m.published()[-1] == "case-offered"
    assert (offered.case_id, offered.round, offered.provider_id) == ("case-a", 1, "p1")
    assert not offered.auto_accepted
    now = m.clock.now()
    assert offered.offered_at.ToDatetime(tzinfo=UTC) == now
    deadline = now + m.config.rules.provider_accept_period
    assert offered.accept_by.ToDatetime(tzinfo=UTC) == deadline
    [envelope] = [
        e.envelope for e in m.database.state.outbox if e.envelope.event_type == "case-offered"
    ]
    assert (envelope.tenant_id, envelope.case_id) == (CREDITOR, "case-a")


async def test_a_quote_accepted_by_the_creditors_policy_publishes_the_offer_too() -> None:
    m = Market()
    await m.register("p1", 1)
    await set_policy(m, auto_accept_below_percent="12")
    await m.auto_rule("p1", "10")
    await m.submit_scored_case("case-a")
    await m.close_bidding()
    [offered] = offers_published(m)
    assert (offered.provider_id, offered.auto_accepted) == ("p1", True)
    assert m.published()[-2:] == ["quote-issued", "case-offered"]


async def test_accepting_offers_the_case_to_the_provider_and_declining_stops_matching() -> None:
    m = await quoted_market()
    view = await answer(m, "case-a", accept=True)
    assert (view.matching.status, view.matching.holder) == (Status.OFFERED, "p1")
    with pytest.raises(StateConflict):
        await answer(m, "case-a", accept=True)
    other = await quoted_market()
    with pytest.raises(NotFound):
        await answer(other, "case-a", accept=False, creditor="creditor-2")
    view = await answer(other, "case-a", accept=False)
    assert view.matching.status is Status.DECLINED
    assert "case-a" not in other.database.state.timers


async def test_a_provider_at_capacity_is_passed_over_when_the_creditor_accepts() -> None:
    m = await quoted_market()
    await m.register("p1", 1, capacity=1)
    await m.auto_rule("p2", "30")  # p2 does not take the second case's quote
    await m.submit_scored_case("case-b")
    await m.close_bidding()
    await answer(m, "case-b", accept=True)  # p1 is offered case-b: its one slot is taken
    view = await answer(m, "case-a", accept=True)
    assert view.matching.status is Status.QUOTED
    assert view.matching.quote is not None
    assert view.matching.quote.provider_id == "p2"
    assert "p1" in view.matching.passed


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"max_fee_percent": "60"}, "max_fee"),
        ({"auto_accept_below_percent": "0.5"}, "auto_accept_below"),
        ({"max_fee_percent": "10", "auto_accept_below_percent": "12"}, "auto_accept_below"),
        ({"window_days": 366}, "window_days"),
    ],
)
async def test_a_bad_policy_is_refused_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    m = Market()
    with pytest.raises(InvalidField) as refused:
        await set_policy(m, **fields)
    assert refused.value.field == field
    assert m.database.state.policies == {}


async def test_the_policy_caps_fees_auto_accepts_sets_the_window_and_excludes() -> None:
    m = Market()
    for n, provider_id in enumerate(("p1", "p2", "p3"), start=1):
        await m.register(provider_id, n)
    await set_policy(
        m,
        max_fee_percent="15",
        auto_accept_below_percent="12",
        window_days=30,
        excluded_providers=(" p3 ", ""),
    )
    policy = m.database.state.policies[CREDITOR]
    assert (str(policy.max_fee_percent), policy.excluded_providers) == ("15", frozenset({"p3"}))
    await m.auto_rule("p1", "20")  # above the creditor's maximum: never quoted
    await m.auto_rule("p2", "11")  # below the auto-accept threshold
    await m.submit_scored_case("case-a")
    assert m.case("case-a").eligible == ["p1", "p2"]
    await m.close_bidding()
    case = m.case("case-a")
    assert (case.status, case.holder, case.window_days) == (Status.OFFERED, "p2", 30)


async def test_the_case_activity_is_the_creditors_only() -> None:
    m = await quoted_market()
    async with m.database.unit_of_work() as uow:
        case, actions = await creditor_commands.case_activity(CREDITOR, "case-a", uow)
        with pytest.raises(NotFound):
            await creditor_commands.case_activity("creditor-2", "case-a", uow)
    assert (case.case.case_id, actions) == ("case-a", [])
