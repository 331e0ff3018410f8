"""What matching promises about provider vetting (issue 13, point 2), written once over its gRPC
contract and run against the gateway's fake matching (gateway unit tests) and the real matching
on PostgreSQL (matching integration tests): a pending provider sees no auction and places no bid
or rule, only an operator approves, and a rejection shuts it out again.

Each subclass provides a `matching` fixture: a `VettingUnderTest`.
"""

from __future__ import annotations

from typing import Any, Protocol

import pytest
from google.protobuf.message import Message

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra_shared.context import Caller
from recouvra_shared.errors import PermissionDenied, Refusal

NEWCOMER = "provider-newcomer"
GATEWAY = Caller(kind="service", subject="gateway")
OPERATOR = Caller(kind="operator", subject="user:operator", tenant_id="")
PROVIDER = Caller(kind="provider", subject=NEWCOMER, tenant_id=NEWCOMER)
TEN_PERCENT = Percentage(basis_points=1000)


class VettingUnderTest(Protocol):
    """One implementation of matching's gRPC contract, driven as its callers drive it."""

    async def open_auction(self) -> str:
        """A case whose auction is open now, that NEWCOMER would qualify for once approved."""
        ...

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        """The reply of `rpc`; a refusal is raised as the platform's `Refusal`."""
        ...


def registration() -> Message:
    return pb.RegisterProviderRequest(
        provider_id=NEWCOMER,
        name="Etude Nouvelle",
        kind="commissaire",
        siren="443061841",
        regions=["FR"],
        serves_business=True,
        serves_consumer=True,
        min_amount_minor=10_000,
        max_amount_minor=100_000_000,
        judicial=True,
        capacity=10,
    )


async def refused(matching: VettingUnderTest, rpc: str, request: Message, caller: Caller) -> Any:
    with pytest.raises(Refusal) as refusal:
        await matching.call(rpc, request, caller)
    return refusal.value


def approval(approved: bool) -> Message:
    return pb.SetProviderApprovalRequest(provider_id=NEWCOMER, approved=approved)


class ProviderVettingContract:
    """The provider-vetting path of matching's contract."""

    async def shut_out(self, matching: VettingUnderTest, case_id: str) -> None:
        """Every way into auctions is refused, as not approved."""
        asked = [
            ("ListOpenAuctions", pb.ListOpenAuctionsRequest()),
            ("PlaceBid", pb.BidRequest(case_id=case_id, fee=TEN_PERCENT)),
            ("SetAutoBidRule", pb.SetAutoBidRuleRequest(name="default", fee=TEN_PERCENT)),
        ]
        for rpc, request in asked:
            refusal = await refused(matching, rpc, request, PROVIDER)
            assert isinstance(refusal, PermissionDenied), (rpc, refusal)
            assert "approved" in refusal.message, (rpc, refusal.message)

    async def test_a_pending_provider_sees_no_auction_and_bids_nothing(
        self, matching: VettingUnderTest
    ) -> None:
        case_id = await matching.open_auction()
        await matching.call("RegisterProvider", registration(), GATEWAY)
        await self.shut_out(matching, case_id)

    async def test_only_an_operator_approves_and_a_rejection_shuts_the_provider_out_again(
        self, matching: VettingUnderTest
    ) -> None:
        case_id = await matching.open_auction()
        await matching.call("RegisterProvider", registration(), GATEWAY)
        for caller in (GATEWAY, PROVIDER):
            refusal = await refused(matching, "SetProviderApproval", approval(True), caller)
            assert isinstance(refusal, PermissionDenied)
        await self.shut_out(matching, case_id)

        reply = await matching.call("SetProviderApproval", approval(True), OPERATOR)
        assert (reply.provider_id, reply.approved) == (NEWCOMER, True)
        await matching.call("ListOpenAuctions", pb.ListOpenAuctionsRequest(), PROVIDER)
        rule = pb.SetAutoBidRuleRequest(name="default", fee=TEN_PERCENT)
        assert (await matching.call("SetAutoBidRule", rule, PROVIDER)).name == "default"

        rejected = await matching.call("SetProviderApproval", approval(False), OPERATOR)
        assert not rejected.approved
        await self.shut_out(matching, case_id)

    async def test_a_provider_cannot_register_itself(self, matching: VettingUnderTest) -> None:
        refusal = await refused(matching, "RegisterProvider", registration(), PROVIDER)
        assert isinstance(refusal, PermissionDenied)
