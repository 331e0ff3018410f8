"""Real matching (over real gRPC, on PostgreSQL) keeps the provider-vetting contract the gateway's
fake keeps too (services/gateway/tests/unit/test_gateway_matching_contract.py)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from recouvra_shared.context import Caller
from recouvra_shared.grpc_status import refusal_of
from services.matching.tests.integration.matching_harness import Harness
from tests.support.identity import as_person, as_service
from tests.support.provider_vetting_contract import ProviderVettingContract

pytestmark = pytest.mark.integration


class RealVettingUnderTest:
    """Matching served in-process over real gRPC, called as its callers call it."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def open_auction(self) -> str:
        await self.h.submit_scored_case("case-vetting", "creditor-1")
        return "case-vetting"

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        if caller.kind == "service":
            metadata = as_service("matching", caller.subject)
        else:
            metadata = as_person("matching", caller.kind, caller.tenant_id or "", caller.subject)
        h = self.h
        stub = h.directory if hasattr(h.directory, rpc) else h.bidding
        try:
            return await getattr(stub, rpc)(request, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            raise refusal from exc


class TestRealMatchingKeepsTheProviderVettingContract(ProviderVettingContract):
    @pytest.fixture
    def matching(self, harness: Harness) -> RealVettingUnderTest:
        return RealVettingUnderTest(harness)
