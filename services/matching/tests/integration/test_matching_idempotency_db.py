"""Issue 13, point 9: a retry of a keyed call (the gateway's retry after a deadline) acts once.

Matching keeps each (caller, Idempotency-Key)'s answer in the transaction of its effect: the
retry gets the first answer back, even when it runs concurrently with the first attempt."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
import pytest

from matching.domain.rules import MatchingRules
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1 import matching_events_pb2 as market
from recouvra.matching.v1 import bidding_pb2 as pb
from services.matching.tests.integration.matching_harness import (
    Harness,
    as_creditor,
    as_provider,
    pct,
)

pytestmark = pytest.mark.integration


def keyed(metadata: Sequence[tuple[str, str]], key: str) -> list[tuple[str, str]]:
    """The call's metadata with the client's Idempotency-Key, as the gateway forwards it."""
    return [*metadata, ("idempotency-key", key)]


async def one_case_held_by_a(h: Harness) -> None:
    await h.register("a", 1)
    await h.register("b", 2)
    await h.auto_rule("a", "10")
    await h.auto_rule("b", "20")
    await h.submit_scored_case("case-1", "creditor-1")
    await h.assign("case-1", "creditor-1", "a")


async def test_issue_13_point_9_retries_act_once_in_matching(harness: Harness) -> None:
    h = harness
    await one_case_held_by_a(h)
    action = pb.ReportActionRequest(case_id="case-1", kind="call", note="Débiteur joint")
    payment = pb.ReportPaymentRequest(
        case_id="case-1",
        amount=Money(currency="EUR", minor_units=12_000),
        paid_on="2026-11-23",
        reference="VIR-1",
    )

    # The first attempt and its retry: one after the other, then two racing.
    first = await h.bidding.ReportAction(action, metadata=keyed(as_provider("a"), "act-1"))
    again = await h.bidding.ReportAction(action, metadata=keyed(as_provider("a"), "act-1"))
    raced = await asyncio.gather(
        *(
            h.bidding.ReportAction(action, metadata=keyed(as_provider("a"), "act-2"))
            for _ in range(3)
        )
    )
    claim = await h.bidding.ReportPayment(payment, metadata=keyed(as_provider("a"), "pay-1"))
    claim_again = await h.bidding.ReportPayment(payment, metadata=keyed(as_provider("a"), "pay-1"))

    assert again == first
    assert len({r.action_id for r in raced}) == 1
    assert claim_again == claim
    activity = await h.quotes.GetCaseActivity(
        pb.CaseRef(case_id="case-1"), metadata=as_creditor("creditor-1")
    )
    assert sorted(a.action_id for a in activity.actions) == sorted(
        [first.action_id, raced[0].action_id]
    )
    published = await h.payloads("matching.action-reported.v1", market.ActionReported)
    assert len(published) == 2
    claims = await h.bidding.ListPaymentClaims(
        pb.CaseRef(case_id="case-1"), metadata=as_provider("a")
    )
    assert [c.claim_id for c in claims.claims] == [claim.payment_id]

    # Without a key each call is a new request; a key is scoped to its caller.
    await h.bidding.ReportAction(action, metadata=as_provider("a"))
    await h.bidding.ReportAction(action, metadata=as_provider("a"))
    activity = await h.quotes.GetCaseActivity(
        pb.CaseRef(case_id="case-1"), metadata=as_creditor("creditor-1")
    )
    assert len(activity.actions) == 4


async def test_issue_13_point_9_a_key_reused_for_another_request_is_refused(
    harness: Harness,
) -> None:
    h = harness
    await h.register("a", 1)
    rule = pb.SetAutoBidRuleRequest(name="default", fee=pct("10"))
    other = pb.SetAutoBidRuleRequest(name="default", fee=pct("12"))
    await h.bidding.SetAutoBidRule(rule, metadata=keyed(as_provider("a"), "rule-1"))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await h.bidding.SetAutoBidRule(other, metadata=keyed(as_provider("a"), "rule-1"))
    assert refused.value.code() is grpc.StatusCode.ALREADY_EXISTS
    assert "idempotency_key" in (refused.value.details() or "")


async def test_issue_13_point_9_accepting_a_quote_twice_answers_the_first_acceptance(
    harness: Harness,
) -> None:
    h = harness
    await h.register("a", 1)
    await h.auto_rule("a", "10")
    await h.submit_scored_case("case-1", "creditor-1")
    h.clock.advance(MatchingRules().bidding_period)
    await h.timers.tick()
    case = pb.CaseRef(case_id="case-1")
    accepted = await h.quotes.AcceptQuote(case, metadata=keyed(as_creditor("creditor-1"), "q-1"))
    # Without the key, a second acceptance is a state conflict; with it, the first answer.
    replayed = await h.quotes.AcceptQuote(case, metadata=keyed(as_creditor("creditor-1"), "q-1"))
    assert replayed == accepted
    with pytest.raises(grpc.aio.AioRpcError):
        await h.quotes.AcceptQuote(case, metadata=as_creditor("creditor-1"))
