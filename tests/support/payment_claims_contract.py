"""What matching promises about the payments providers report, written once over its gRPC
contract (bidding.proto) and run against every implementation of it: the gateway's fake matching
(gateway unit tests) and the real matching service on PostgreSQL (matching integration tests).

A fake that accepts what the real service refuses (or the reverse) hides holes: the gateway's
fake once accepted payments only from the current holder while real matching accepted any past
holder's (issue 13, point 15).

Each subclass provides a `matching` fixture: a `MatchingUnderTest` on which `rotated_case` has
been set up by the suite's own tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import pytest
from google.protobuf.message import Message

from recouvra.common.v1.money_pb2 import Money
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller
from recouvra_shared.errors import InvalidRequest, NotFound, Refusal, StateConflict

CASE = "case-claims"
CREDITOR = "creditor-claims"
OTHER_CREDITOR = "creditor-other"
FIRST, SECOND, STRANGER = "provider-first", "provider-second", "provider-stranger"


@dataclass(frozen=True)
class Days:
    """Days of the case's two holdings: one only the first holder held it, one in the second's
    window (today, for the service under test)."""

    first_window: date
    second_window: date


class MatchingUnderTest(Protocol):
    """One implementation of matching's gRPC contract, driven as its callers drive it."""

    async def rotated_case(self) -> Days:
        """CASE of CREDITOR, 4800.00 EUR: held by FIRST in round 1, by SECOND now, in round 2."""
        ...

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        """The reply of `rpc`; a refusal is raised as the platform's `Refusal`."""
        ...


def provider(provider_id: str) -> Caller:
    return Caller(kind="provider", subject=provider_id, tenant_id=provider_id)


def creditor(creditor_id: str) -> Caller:
    return Caller(kind="creditor", subject=creditor_id, tenant_id=creditor_id)


def payment(minor: int, paid_on: date, reference: str, *, full: bool = False) -> Message:
    return pb.ReportPaymentRequest(
        case_id=CASE,
        amount=Money(currency="EUR", minor_units=minor),
        paid_on=paid_on.isoformat(),
        settles_in_full=full,
        reference=reference,
    )


async def refused(matching: MatchingUnderTest, rpc: str, request: Message, caller: Caller) -> Any:
    with pytest.raises(Refusal) as refusal:
        await matching.call(rpc, request, caller)
    return refusal.value


def fields(refusal: Any) -> list[str]:
    assert isinstance(refusal, InvalidRequest), refusal
    return [v.field for v in refusal.violations]


async def activity(matching: MatchingUnderTest) -> Any:
    return await matching.call("GetCaseActivity", pb.CaseRef(case_id=CASE), creditor(CREDITOR))


class PaymentClaimsContract:
    """The payment-reporting path of matching's contract."""

    async def test_a_past_holder_cannot_claim_a_payment_and_nothing_changes(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        before = await activity(matching)
        attack = payment(1, days.first_window, "FAKE-1", full=True)
        assert isinstance(
            await refused(matching, "ReportPayment", attack, provider(FIRST)), NotFound
        )
        after = await activity(matching)
        assert (after.status, after.recovered.minor_units, list(after.claims)) == (
            "assigned",
            0,
            [],
        )
        assert after == before

    async def test_a_provider_that_never_held_the_case_is_answered_like_a_missing_case(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        request = payment(1_000, days.second_window, "X")
        stranger = await refused(matching, "ReportPayment", request, provider(STRANGER))
        missing = pb.ReportPaymentRequest()
        missing.CopyFrom(request)
        missing.case_id = "case-that-does-not-exist"
        nowhere = await refused(matching, "ReportPayment", missing, provider(SECOND))
        assert isinstance(stranger, NotFound)
        assert isinstance(nowhere, NotFound)
        listed = await refused(
            matching, "ListPaymentClaims", pb.CaseRef(case_id=CASE), provider(STRANGER)
        )
        assert isinstance(listed, NotFound)

    async def test_the_holders_report_is_a_claim_that_counts_nowhere_until_confirmed(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        reply = await matching.call(
            "ReportPayment", payment(1, days.second_window, "R-1", full=True), provider(SECOND)
        )
        assert (reply.status, reply.claim_state, reply.attributed_to) == (
            "assigned",
            "claimed",
            SECOND,
        )
        seen = await activity(matching)
        assert (seen.status, seen.recovered.minor_units, list(seen.payments)) == ("assigned", 0, [])
        assert [(c.claim_id, c.provider_id, c.state, c.reference) for c in seen.claims] == [
            (reply.payment_id, SECOND, "claimed", "R-1")
        ]

    async def test_the_holder_claims_only_within_its_window_and_a_reference_only_once(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        early = await refused(
            matching, "ReportPayment", payment(1_000, days.first_window, "R-1"), provider(SECOND)
        )
        assert fields(early) == ["paid_on"]
        first = await matching.call(
            "ReportPayment", payment(1_000, days.second_window, "R-1"), provider(SECOND)
        )
        again = await matching.call(
            "ReportPayment", payment(1_000, days.second_window, "R-1"), provider(SECOND)
        )
        assert again.payment_id == first.payment_id
        changed = await refused(
            matching, "ReportPayment", payment(2_000, days.second_window, "R-1"), provider(SECOND)
        )
        assert fields(changed) == ["reference"]
        assert len((await activity(matching)).claims) == 1

    async def test_a_confirmed_full_claim_becomes_a_payment_and_closes_the_case(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        claimed = await matching.call(
            "ReportPayment",
            payment(480_000, days.second_window, "R-1", full=True),
            provider(SECOND),
        )
        ref = pb.PaymentClaimRef(case_id=CASE, claim_id=claimed.payment_id)
        answer = await matching.call("ConfirmPayment", ref, creditor(CREDITOR))
        assert (answer.status, answer.claim.state, answer.recovered.minor_units) == (
            "closed",
            "confirmed",
            480_000,
        )
        seen = await activity(matching)
        assert [(p.payment_id, p.source, p.provider_id) for p in seen.payments] == [
            (claimed.payment_id, "provider", SECOND)
        ]
        assert [c.state for c in seen.claims] == ["confirmed"]

    async def test_a_disputed_claim_counts_nowhere_and_shows_its_reason_to_both_sides(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        claimed = await matching.call(
            "ReportPayment", payment(40_000, days.second_window, "R-1"), provider(SECOND)
        )

        def dispute(reason: str) -> Message:
            return pb.DisputePaymentRequest(
                case_id=CASE, claim_id=claimed.payment_id, reason=reason
            )

        blank = await refused(matching, "DisputePayment", dispute("  "), creditor(CREDITOR))
        assert fields(blank) == ["reason"]
        answer = await matching.call("DisputePayment", dispute("Not received"), creditor(CREDITOR))
        assert (answer.status, answer.claim.state, answer.recovered.minor_units) == (
            "assigned",
            "disputed",
            0,
        )
        mine = await matching.call("ListPaymentClaims", pb.CaseRef(case_id=CASE), provider(SECOND))
        assert [(c.state, c.dispute_reason) for c in mine.claims] == [("disputed", "Not received")]
        past = await matching.call("ListPaymentClaims", pb.CaseRef(case_id=CASE), provider(FIRST))
        assert list(past.claims) == []
        seen = await activity(matching)
        assert (seen.recovered.minor_units, list(seen.payments)) == (0, [])

    async def test_a_confirmed_claim_cannot_be_disputed(self, matching: MatchingUnderTest) -> None:
        days = await matching.rotated_case()
        claimed = await matching.call(
            "ReportPayment", payment(40_000, days.second_window, "R-1"), provider(SECOND)
        )
        ref = pb.PaymentClaimRef(case_id=CASE, claim_id=claimed.payment_id)
        await matching.call("ConfirmPayment", ref, creditor(CREDITOR))
        late = pb.DisputePaymentRequest(case_id=CASE, claim_id=claimed.payment_id, reason="no")
        conflict = await refused(matching, "DisputePayment", late, creditor(CREDITOR))
        assert isinstance(conflict, StateConflict)

    async def test_another_creditor_or_an_unknown_claim_is_not_found(
        self, matching: MatchingUnderTest
    ) -> None:
        days = await matching.rotated_case()
        claimed = await matching.call(
            "ReportPayment", payment(40_000, days.second_window, "R-1"), provider(SECOND)
        )
        mine = pb.PaymentClaimRef(case_id=CASE, claim_id=claimed.payment_id)
        unknown = pb.PaymentClaimRef(case_id=CASE, claim_id="no-such-claim")
        for request, caller in ((mine, creditor(OTHER_CREDITOR)), (unknown, creditor(CREDITOR))):
            assert isinstance(await refused(matching, "ConfirmPayment", request, caller), NotFound)
        rival = pb.DisputePaymentRequest(case_id=CASE, claim_id=claimed.payment_id, reason="no")
        assert isinstance(
            await refused(matching, "DisputePayment", rival, creditor(OTHER_CREDITOR)), NotFound
        )
        assert [c.state for c in (await activity(matching)).claims] == ["claimed"]
