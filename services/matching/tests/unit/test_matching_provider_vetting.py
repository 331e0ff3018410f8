"""Issue 13, point 2, in matching itself: a provider that signed itself up is pending until an
operator approves it, and matching (not only the gateway) keeps it out of auctions and bids."""

from __future__ import annotations

from decimal import Decimal

import pytest

from matching.domain.commands import PlaceBid, SetAutoBidRule
from matching.domain.errors import NotFound, ProviderNotApproved
from matching.domain.providers import new_provider
from matching.service_layer import provider_commands, provider_directory
from services.matching.tests.unit.matching_market import Market, siren


def signed_up(provider_id: str, n: int):  # type: ignore[no-untyped-def]
    return new_provider(
        provider_id=provider_id,
        name=f"Etude {provider_id}",
        kind="commissaire",
        siren=siren(n),
        regions=["FR"],
        serves_business=True,
        serves_consumer=True,
        min_amount_minor=10_000,
        max_amount_minor=100_000_000,
        judicial=True,
        capacity=10,
    )


async def test_provider_vetting_a_pending_provider_sees_no_auction_and_cannot_bid() -> None:
    m = Market()
    await m.register("veteran", 1)
    await m.committed(
        lambda uow: provider_directory.sign_up_provider(
            signed_up("newcomer", 2), uow, clock=m.clock
        )
    )
    await m.submit_scored_case("case-a")
    assert "newcomer" not in m.case("case-a").eligible

    with pytest.raises(ProviderNotApproved):
        await m.committed(
            lambda uow: provider_commands.open_auctions("newcomer", uow, clock=m.clock)
        )
    bid = PlaceBid("newcomer", "case-a", Decimal("12"), 0, "EUR")
    with pytest.raises(ProviderNotApproved):
        await m.committed(lambda uow: provider_commands.place_bid(bid, uow, **m.deps))
    rule = SetAutoBidRule("newcomer", "default", Decimal("12"))
    with pytest.raises(ProviderNotApproved):
        await m.committed(lambda uow: provider_commands.set_auto_bid_rule(rule, uow, **m.deps))

    # Signing up again (a profile change) does not approve it either.
    await m.committed(
        lambda uow: provider_directory.sign_up_provider(
            signed_up("newcomer", 2), uow, clock=m.clock
        )
    )
    with pytest.raises(ProviderNotApproved):
        await m.committed(
            lambda uow: provider_commands.open_auctions("newcomer", uow, clock=m.clock)
        )


async def test_provider_vetting_approval_lets_it_into_the_next_auction_and_rejection_out() -> None:
    m = Market()
    await m.committed(
        lambda uow: provider_directory.sign_up_provider(
            signed_up("newcomer", 2), uow, clock=m.clock
        )
    )
    await m.committed(
        lambda uow: provider_directory.set_provider_approval("newcomer", True, uow, clock=m.clock)
    )
    await m.submit_scored_case("case-b")
    assert "newcomer" in m.case("case-b").eligible
    opened = await m.committed(
        lambda uow: provider_commands.open_auctions("newcomer", uow, clock=m.clock)
    )
    assert [o.case.case_id for o in opened] == ["case-b"]

    await m.committed(
        lambda uow: provider_directory.set_provider_approval("newcomer", False, uow, clock=m.clock)
    )
    bid = PlaceBid("newcomer", "case-b", Decimal("12"), 0, "EUR")
    with pytest.raises(ProviderNotApproved):
        await m.committed(lambda uow: provider_commands.place_bid(bid, uow, **m.deps))
    # A profile update keeps the rejection.
    await m.committed(
        lambda uow: provider_directory.sign_up_provider(
            signed_up("newcomer", 2), uow, clock=m.clock
        )
    )
    assert not m.database.state.providers["newcomer"].active

    with pytest.raises(NotFound):
        await m.committed(
            lambda uow: provider_directory.set_provider_approval("ghost", True, uow, clock=m.clock)
        )
