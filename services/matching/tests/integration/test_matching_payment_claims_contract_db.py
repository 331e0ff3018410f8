"""Real matching (its gRPC APIs over real gRPC, on PostgreSQL) keeps the payment-claims contract
the gateway's fake keeps too (services/gateway/tests/unit/test_gateway_matching_contract.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from recouvra_shared.context import Caller
from recouvra_shared.grpc_status import refusal_of
from services.matching.tests.integration.matching_harness import (
    Harness,
    as_creditor,
    as_provider,
)
from tests.support.payment_claims_contract import (
    CASE,
    CREDITOR,
    FIRST,
    SECOND,
    Days,
    PaymentClaimsContract,
)

pytestmark = pytest.mark.integration


class RealMatchingUnderTest:
    """Matching served in-process over real gRPC, called as its callers call it."""

    def __init__(self, harness: Harness) -> None:
        self.h = harness

    async def rotated_case(self) -> Days:
        h = self.h
        await h.register(FIRST, 1)
        await h.register(SECOND, 2)
        await h.auto_rule(FIRST, "10")
        await h.auto_rule(SECOND, "20")
        await h.submit_scored_case(CASE, CREDITOR)
        await h.assign(CASE, CREDITOR, FIRST)
        h.clock.advance(timedelta(days=5))
        first_window = h.clock.now().date()
        h.clock.advance(timedelta(days=40, minutes=30))  # FIRST's 45-day window lapses
        await h.timers.tick()
        await h.assign(CASE, CREDITOR, SECOND)
        h.clock.advance(timedelta(days=3))
        return Days(first_window=first_window, second_window=h.clock.now().date())

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        assert caller.tenant_id is not None
        as_caller = as_provider if caller.kind == "provider" else as_creditor
        stub = self.h.bidding if hasattr(self.h.bidding, rpc) else self.h.quotes
        try:
            return await getattr(stub, rpc)(request, metadata=as_caller(caller.tenant_id))
        except grpc.aio.AioRpcError as exc:
            refusal = refusal_of(exc)
            if refusal is None:
                raise
            raise refusal from exc


class TestRealMatchingKeepsThePaymentClaimsContract(PaymentClaimsContract):
    @pytest.fixture
    def matching(self, harness: Harness) -> RealMatchingUnderTest:
        return RealMatchingUnderTest(harness)
