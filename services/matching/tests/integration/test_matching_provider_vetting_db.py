"""Issue 13, point 2, over matching's real gRPC on PostgreSQL: a provider the gateway signs up
is pending, and matching itself refuses its bids until an operator approves it; no service, the
gateway included, approves on its own account."""

from __future__ import annotations

import grpc
import pytest

from recouvra.matching.v1 import bidding_pb2 as pb
from services.matching.tests.integration.matching_harness import (
    AS_GATEWAY,
    AS_OPERATOR,
    Harness,
    as_provider,
    pct,
    siren,
)

pytestmark = pytest.mark.integration


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call  # type: ignore[misc]
    return refused.value.code()


async def test_provider_vetting_matching_refuses_bids_until_an_operator_approves(
    harness: Harness,
) -> None:
    h = harness
    await h.register("veteran", 1)
    await h.directory.RegisterProvider(
        pb.RegisterProviderRequest(
            provider_id="newcomer",
            name="Etude Nouvelle",
            kind="commissaire",
            siren=siren(2),
            regions=["FR"],
            serves_business=True,
            serves_consumer=True,
            min_amount_minor=10_000,
            max_amount_minor=100_000_000,
            judicial=True,
            capacity=10,
        ),
        metadata=AS_GATEWAY,
    )
    await h.submit_scored_case("case-v", "creditor-1")
    bid = pb.BidRequest(case_id="case-v", fee=pct("10"))
    assert await code_of(h.bidding.PlaceBid(bid, metadata=as_provider("newcomer"))) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    listed = h.bidding.ListOpenAuctions(
        pb.ListOpenAuctionsRequest(), metadata=as_provider("newcomer")
    )
    assert await code_of(listed) == grpc.StatusCode.PERMISSION_DENIED

    approve = pb.SetProviderApprovalRequest(provider_id="newcomer", approved=True)
    assert await code_of(h.directory.SetProviderApproval(approve, metadata=AS_GATEWAY)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await code_of(
        h.directory.SetProviderApproval(approve, metadata=as_provider("newcomer"))
    ) == (grpc.StatusCode.PERMISSION_DENIED)

    reply = await h.directory.SetProviderApproval(approve, metadata=AS_OPERATOR)
    assert reply.approved
    # Approved now, for the next auctions: this one opened without it.
    await h.submit_scored_case("case-w", "creditor-1")
    placed = await h.bidding.PlaceBid(
        pb.BidRequest(case_id="case-w", fee=pct("10")), metadata=as_provider("newcomer")
    )
    assert placed.case_id == "case-w"
