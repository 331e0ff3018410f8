"""The harness's live provider watches the auctions on the gateway's server-sent stream, as a
bidding robot does, and bids once on each (unit tier: a gateway faked with httpx's
MockTransport). Faults break the stream; it must connect again and miss nothing."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx

from tests.chaos.driver import IN_FLIGHT, Driver, Party, Session


def auction(case_id: str, my_fee: str | None = None) -> bytes:
    view = {"case_id": case_id, "round": 1, "my_fee_percent": my_fee}
    return f"event: auction\ndata: {json.dumps(view)}\n\n".encode()


class Gateway:
    """Its first stream is refused (the session ran out), its second sends two auctions and
    breaks, its third sends what is open then (the same two, a third, one already bid on by
    the provider elsewhere) and stays open."""

    def __init__(self) -> None:
        self.streams = 0
        self.logins = 0
        self.bids: list[str] = []
        self.hanging = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/v1/auth/token":
            self.logins += 1
            return httpx.Response(200, json={"access_token": f"t{self.logins}"})
        if path == "/v1/provider/auctions/stream":
            self.streams += 1
            if self.streams == 1:
                return httpx.Response(401, json={"detail": "session expired"})
            if self.streams == 2:
                return httpx.Response(200, content=self.broken([auction("c-1"), auction("c-2")]))
            return httpx.Response(200, content=self.open_ones())
        assert request.headers["Authorization"] == f"Bearer t{self.logins}"
        self.bids.append(path.split("/")[4])
        return httpx.Response(201, json={})

    async def broken(self, events: list[bytes]) -> AsyncIterator[bytes]:
        for event in events:
            yield event
        raise httpx.ReadError("gateway killed")

    async def open_ones(self) -> AsyncIterator[bytes]:
        for event in (auction("c-1"), auction("c-2"), auction("c-3"), auction("c-4", "12.0")):
            yield event
        self.hanging.set()
        await asyncio.sleep(3600)
        yield b""


async def bid_until(
    gateway: Callable[[httpx.Request], Awaitable[httpx.Response]],
    shown: asyncio.Event,
    within: float,
) -> Driver:
    """The live provider bids on what `gateway` streams until every auction was shown (`shown`);
    then it stops, once the bids under way (given `within` seconds) are done."""
    driver = Driver("http://gateway", random.Random(1), run="T")
    driver.client = httpx.AsyncClient(
        base_url="http://gateway", transport=httpx.MockTransport(gateway)
    )
    driver.live_provider = Party("p-live", Session("live@example.fr", "t0"))
    stop = asyncio.Event()
    bidding = asyncio.create_task(driver.bid_live(stop))
    await asyncio.wait_for(shown.wait(), 10)  # every line before it was read
    stop.set()  # the bids under way are awaited
    await asyncio.wait_for(bidding, within)
    return driver


async def test_the_live_provider_bids_once_on_each_auction_across_broken_streams() -> None:
    gateway = Gateway()
    driver = await bid_until(gateway, gateway.hanging, within=10)

    assert sorted(gateway.bids) == ["c-1", "c-2", "c-3"]
    assert sorted(i.case_id for i in driver.intents if i.kind == "bid") == ["c-1", "c-2", "c-3"]
    assert (gateway.streams, gateway.logins) == (3, 1)


class DownGateway:
    """Sends 40 auctions on its stream while every bid gets 503 for its first `down_for`
    seconds; counts the bids in flight at once and every bid request."""

    def __init__(self, down_for: float) -> None:
        self.up_at = asyncio.get_running_loop().time() + down_for
        self.in_flight = self.most_in_flight = self.requests = 0
        self.sent = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/provider/auctions/stream":
            return httpx.Response(200, content=self.auctions())
        self.requests += 1
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.01)
            if asyncio.get_running_loop().time() < self.up_at:
                return httpx.Response(503, json={"detail": "matching is unavailable"})
            return httpx.Response(201, json={})
        finally:
            self.in_flight -= 1

    async def auctions(self) -> AsyncIterator[bytes]:
        for n in range(40):
            yield auction(f"c-{n}")
        self.sent.set()
        await asyncio.sleep(3600)
        yield b""


async def test_while_bids_are_refused_they_wait_their_turn_and_ask_again_less_and_less() -> None:
    """A 10,000-case run drowned its gateway: every auction shown while matching was down got a
    bid of its own asking again three times a second, thousands at once, and the gateway never
    came back. A robot keeps a few bids in flight and backs off."""
    gateway = DownGateway(down_for=3.0)
    driver = await bid_until(gateway, gateway.sent, within=60)

    assert sorted(i.case_id for i in driver.intents if i.kind == "bid") == sorted(
        f"c-{n}" for n in range(40)
    )
    assert all(i.status == 201 for i in driver.intents)
    assert gateway.most_in_flight <= IN_FLIGHT
    # Retried at a fixed 0.3 s, the 8 bids waiting through the 3 s would have asked 80 times.
    assert gateway.requests - 40 < 40
