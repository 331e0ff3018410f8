"""A long run outlives the gateway's 15-minute tokens: the harness's users log in again when
their session runs out, as a person would (unit tier: a gateway faked with httpx's
MockTransport). A 10,000-case run met it: every creditor's quote read was refused with 401 once
the run was 35 minutes old, and nothing could be accepted."""

from __future__ import annotations

import asyncio
import itertools
import json
import random

import httpx

from tests.chaos.driver import Driver, Session


class Gateway:
    """Issues tokens t1, t2, ... and accepts only the latest; counts the logins."""

    def __init__(self) -> None:
        self.logins = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/auth/token":
            assert json.loads(request.content)["email"] == "creditor@example.fr"
            self.logins += 1
            return httpx.Response(200, json={"access_token": f"t{self.logins}"})
        if request.headers.get("Authorization") != f"Bearer t{self.logins}":
            return httpx.Response(401, json={"detail": "session expired"})
        return httpx.Response(200, json={"status": "quoted"})

    def expire(self) -> None:
        """Every token issued so far runs out (the next login's is the only one accepted)."""
        self.logins += 1


def driver_for(gateway: Gateway) -> Driver:
    driver = Driver("http://gateway", random.Random(1), run="T")
    driver.client = httpx.AsyncClient(
        base_url="http://gateway", transport=httpx.MockTransport(gateway)
    )
    return driver


async def test_a_user_whose_session_ran_out_logs_in_again_and_is_answered() -> None:
    gateway = Gateway()
    driver = driver_for(gateway)
    session = await driver.log_in("creditor@example.fr")
    gateway.expire()

    answer = await driver.call("POST", "/v1/cases/c-1/quote/acceptance", headers=session)
    read = await driver.read("/v1/cases/c-1/quote", session)

    assert (answer.status_code, read.status_code) == (200, 200)
    assert session["Authorization"] == f"Bearer t{gateway.logins}"
    assert gateway.logins == 3  # the first login, the expiry, one login again


async def test_many_requests_refused_at_once_log_their_user_in_once() -> None:
    gateway = Gateway()
    driver = driver_for(gateway)
    session = await driver.log_in("creditor@example.fr")
    gateway.expire()

    answers = await asyncio.gather(
        *(driver.call("GET", f"/v1/cases/c-{n}/quote", headers=session) for n in range(8))
    )

    assert [a.status_code for a in answers] == [200] * 8
    assert gateway.logins == 3


async def test_headers_that_are_no_session_are_refused_as_they_are() -> None:
    gateway = Gateway()
    driver = driver_for(gateway)
    api_key = {"X-API-Key": "robot"}

    answer = await driver.call("GET", "/v1/provider/auctions", headers=api_key)

    assert answer.status_code == 401
    assert gateway.logins == 0
    assert not isinstance(api_key, Session)


class CrowdedGateway:
    """Answers 429 with Retry-After to the first two tries of every request."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after
        self.tries: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.tries.append(asyncio.get_running_loop().time())
        if len(self.tries) <= 2:
            return httpx.Response(
                429, headers={"Retry-After": str(self.retry_after)}, json={"detail": "slow down"}
            )
        return httpx.Response(201, json={"case_id": "c-1"})


async def test_a_request_told_to_slow_down_goes_again_not_before_it_is_told() -> None:
    # The gateway answers 429 to a credential with too many requests in flight: the request was
    # not taken, so it goes again under its Idempotency-Key, after the Retry-After it was given.
    gateway = CrowdedGateway(retry_after=0.6)
    driver = Driver("http://gateway", random.Random(1), run="T")
    driver.client = httpx.AsyncClient(
        base_url="http://gateway", transport=httpx.MockTransport(gateway)
    )

    answer = await driver.call("POST", "/v1/cases", json={}, headers={"X-API-Key": "robot"})

    assert answer.status_code == 201
    assert len(gateway.tries) == 3
    pauses = [later - earlier for earlier, later in itertools.pairwise(gateway.tries)]
    assert all(pause >= 0.6 for pause in pauses), pauses
