"""Payment links per purpose on the fakes: a link for an instalment or a promised amount lives
beside the whole amount's (a letter's link is never revoked by a portal button), a new amount
replaces the link of its own purpose only, and the provider is never called while a unit of
work (a database transaction) is open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from recouvra_shared.errors import InvalidField
from services.settlement.tests.unit.money_in_world import CASE_A, REF_A, World, two_invoice_case
from services.settlement.tests.unit.payment_link_fakes import FakeInitiation
from services.settlement.tests.unit.test_settlement_pay_by_link import POLICY
from settlement.domain.payment_links import LinkPurpose, LinkStatus
from settlement.service_layer.payment_link_ports import CreatedLink, LinkRequest
from settlement.service_layer.payment_links import (
    CreatePaymentLink,
    GivenLink,
    create_payment_link,
)

NOW = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


class WatchedUnits:
    """The world's units of work, counting those open right now."""

    def __init__(self, units: Callable[[], Any]) -> None:
        self.units = units
        self.open = 0

    def __call__(self) -> Any:
        watched, uow = self, self.units()

        class Opened:
            async def __aenter__(self) -> Any:
                entered = await uow.__aenter__()
                watched.open += 1
                return entered

            async def __aexit__(
                self,
                kind: type[BaseException] | None,
                error: BaseException | None,
                trace: TracebackType | None,
            ) -> None:
                watched.open -= 1
                await uow.__aexit__(kind, error, trace)

        return Opened()


class OutsideTransactions(FakeInitiation):
    """A provider that fails the test when called with a transaction open."""

    units: WatchedUnits | None = None

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        assert self.units is not None
        assert self.units.open == 0, "called inside a transaction"
        return await super().create_link(request)

    async def revoke_link(self, link_id: str) -> None:
        assert self.units is not None
        assert self.units.open == 0, "called inside a transaction"
        await super().revoke_link(link_id)


class Setup:
    def __init__(self) -> None:
        self.world = World()
        self.world.knows(two_invoice_case(), REF_A)
        self.units = WatchedUnits(self.world.uow)
        self.provider = OutsideTransactions()
        self.provider.units = self.units

    async def link(self, cents: int, purpose: str = "") -> GivenLink:
        return await create_payment_link(
            CreatePaymentLink(CASE_A, cents, "EUR", "debtor", CASE_A, purpose=purpose),
            self.units,
            self.provider,
            POLICY,
            lambda: NOW,
        )

    def status(self, given: GivenLink) -> LinkStatus:
        return self.world.tables.payment_links.links[given.link.link_id].status


@pytest.fixture
def setup() -> Setup:
    return Setup()


async def test_an_instalments_link_does_not_revoke_the_whole_amounts(setup: Setup) -> None:
    whole = await setup.link(150_000)  # the letter's (no purpose: the whole amount)
    first = await setup.link(25_000, "instalment")
    promised = await setup.link(40_000, "promise")
    assert whole.link.purpose is LinkPurpose.WHOLE_AMOUNT
    assert (first.link.purpose, promised.link.purpose) == (
        LinkPurpose.INSTALMENT,
        LinkPurpose.PROMISE,
    )
    assert setup.provider.revoked == []
    assert {setup.status(g) for g in (whole, first, promised)} == {LinkStatus.LIVE}
    # The letter's link answers again, unchanged, after the portal's buttons.
    again = await setup.link(150_000, "whole-amount")
    assert (again.created, again.link.link_id) == (False, whole.link.link_id)


async def test_a_new_amount_replaces_the_link_of_its_own_purpose_only(setup: Setup) -> None:
    whole = await setup.link(150_000)
    first = await setup.link(25_000, "instalment")
    second = await setup.link(30_000, "instalment")
    assert second.replaced_link_id == first.link.link_id
    assert setup.provider.revoked == [first.link.link_id]
    assert setup.status(first) is LinkStatus.REPLACED
    assert setup.status(whole) is LinkStatus.LIVE
    lowered = await setup.link(120_000)  # the whole amount changed (a payment arrived)
    assert lowered.replaced_link_id == whole.link.link_id
    assert setup.provider.revoked == [first.link.link_id, whole.link.link_id]
    assert setup.status(second) is LinkStatus.LIVE


async def test_the_provider_is_called_outside_every_transaction(setup: Setup) -> None:
    await setup.link(150_000)
    await setup.link(90_000)  # create the new one, revoke the old: both outside
    assert len(setup.provider.created) == 2
    assert len(setup.provider.revoked) == 1
    assert setup.units.open == 0


async def test_an_unknown_purpose_is_refused_naming_the_field(setup: Setup) -> None:
    with pytest.raises(InvalidField) as refused:
        await setup.link(100, "deposit")
    assert "purpose" in str(refused.value)
    assert setup.provider.created == []
