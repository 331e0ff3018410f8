"""The gateway's fake matching keeps matching's payment-claims and provider-vetting contracts, as
the real service does (matching's test_matching_payment_claims_contract_db.py
and test_matching_provider_vetting_contract_db.py): the gateway's tests cannot rely on a fake
more lenient, or stricter, than matching."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from google.protobuf.message import Message

from gateway.adapters.calls import unary
from recouvra_shared.context import Caller
from services.gateway.tests.unit.gateway_fakes import FakeMatching
from tests.support.payment_claims_contract import (
    CASE,
    CREDITOR,
    FIRST,
    SECOND,
    Days,
    PaymentClaimsContract,
)
from tests.support.provider_vetting_contract import ProviderVettingContract

FIRST_WINDOW = date(2026, 11, 23)
SECOND_WINDOW = date(2027, 1, 8)


class FakeMatchingUnderTest:
    """The fake, called the way the gateway's typed clients call it."""

    def __init__(self) -> None:
        self.fake = FakeMatching()

    async def rotated_case(self) -> Days:
        self.fake.hold(CASE, CREDITOR, FIRST, since=FIRST_WINDOW, amount_minor=480_000)
        self.fake.rotate(CASE, SECOND, since=SECOND_WINDOW)
        return Days(first_window=date(2026, 11, 28), second_window=date(2027, 1, 11))

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        return await unary(getattr(self.fake, rpc), request, caller)


class TestFakeMatchingKeepsThePaymentClaimsContract(PaymentClaimsContract):
    @pytest.fixture
    def matching(self) -> FakeMatchingUnderTest:
        return FakeMatchingUnderTest()


class FakeVettingUnderTest:
    """The fake, called the way the gateway's typed clients call it."""

    def __init__(self) -> None:
        self.fake = FakeMatching()

    async def open_auction(self) -> str:
        return self.fake.open_case

    async def call(self, rpc: str, request: Message, caller: Caller) -> Any:
        return await unary(getattr(self.fake, rpc), request, caller)


class TestFakeMatchingKeepsTheProviderVettingContract(ProviderVettingContract):
    """Issue 13, point 15's drift: the fake once let any provider bid, approved or not."""

    @pytest.fixture
    def matching(self) -> FakeVettingUnderTest:
        return FakeVettingUnderTest()
