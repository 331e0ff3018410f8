"""The 50 auto-bidding providers of the marketplace benches (matching's, the pipeline's)."""

from __future__ import annotations

from stdnum import luhn

from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from tests.support.identity import as_person
from tests.support.pki import platform_pki

SEGMENTS = ["good-faith", "difficulty", "dispute"]

# Providers are onboarded by an operator (a person, through the gateway) and then approved.
AS_OPERATOR = as_person("matching", "operator", "", "user:operator")


async def register_auto_bidders(target: str, count: int) -> None:
    """`count` providers working all of France (`bench-p000`...), registered and approved by an
    operator over matching's gRPC API at `target`, each with an auto-bid rule: fees from 8 % to
    20.9 %, a minimum Trustscore of 0 to 29, one provider in three for one segment only."""
    async with platform_pki().channel(target, "matching") as channel:
        directory = pb_grpc.ProviderDirectoryServiceStub(channel)
        bidding = pb_grpc.BiddingServiceStub(channel)
        for i in range(count):
            provider_id = f"bench-p{i:03d}"
            body = f"{i + 1:08d}"
            await directory.RegisterProvider(
                pb.RegisterProviderRequest(
                    provider_id=provider_id,
                    name=f"Bench {i}",
                    kind="commissaire",
                    siren=body + luhn.calc_check_digit(body),
                    regions=["FR"],
                    serves_business=True,
                    serves_consumer=True,
                    min_amount_minor=10_000,
                    max_amount_minor=100_000_000,
                    judicial=True,
                    capacity=1_000_000,
                ),
                metadata=AS_OPERATOR,
            )
            await directory.SetProviderApproval(
                pb.SetProviderApprovalRequest(provider_id=provider_id, approved=True),
                metadata=AS_OPERATOR,
            )
            rule = pb.SetAutoBidRuleRequest(
                name="bench",
                fee=Percentage(basis_points=(8 + (i * 7) % 13) * 100 + (i % 10) * 10),
                min_trustscore=i % 30,
            )
            if i % 3 == 0:
                rule.segments.append(SEGMENTS[i % len(SEGMENTS)])
            meta = as_person("matching", "provider", provider_id, provider_id)
            await bidding.SetAutoBidRule(rule, metadata=meta)
