"""A credential with too many requests waiting for their answers is told to slow down (429,
Retry-After) before anything is done for it; other callers are served meanwhile."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.adapters.intake import IntakeClient
from gateway.adapters.security import Passwords, Tokens
from gateway.domain.model import LoginPolicy
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.http import create_app
from recouvra.intake.v1 import intake_pb2
from services.gateway.tests.unit.gateway_fakes import FakeStore
from services.gateway.tests.unit.test_gateway_http import log_in

LIMIT = 2


class SlowIntake:
    """Intake answering a case whose id starts with "slow" only once released."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.release = asyncio.Event()

    async def GetCase(self, request: Any, **_: Any) -> Any:
        self.asked.append(request.case_id)
        if request.case_id.startswith("slow"):
            await self.release.wait()
        return intake_pb2.Case(case_id=request.case_id, creditor_id=request.creditor_id)


@pytest.fixture
def intake() -> SlowIntake:
    return SlowIntake()


@pytest.fixture
async def client(store: FakeStore, passwords: Passwords, tokens: Tokens, intake: SlowIntake) -> Any:
    services = GatewayServices(
        unit_of_work=store.unit_of_work,
        passwords=passwords,
        tokens=tokens,
        login_policy=LoginPolicy(max_failures=3, window_seconds=60),
        fingerprint_secret=b"unit",
        intake=IntakeClient(intake),
        in_flight_per_credential=LIMIT,
    )
    transport = httpx.ASGITransport(app=create_app(services, {}), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
        yield http


async def until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the requests never reached intake")


async def test_past_its_limit_a_credential_waits_while_others_are_served(
    client: httpx.AsyncClient, intake: SlowIntake
) -> None:
    robot = await log_in(client, "robot@example.com")
    other = await log_in(client, "other@example.com")
    waiting = [
        asyncio.create_task(client.get(f"/v1/cases/slow-{n}", headers=robot)) for n in range(LIMIT)
    ]
    await until(lambda: len(intake.asked) == LIMIT)

    refused = await client.get("/v1/cases/one-more", headers=robot)

    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"] == "1"
    assert f"at most {LIMIT} at once per credential" in refused.json()["detail"]
    assert "one-more" not in intake.asked  # nothing was done for it
    # Another credential is served while the robot's requests wait.
    served = await client.get("/v1/cases/case-of-other", headers=other)
    assert served.status_code == 200, served.text

    intake.release.set()
    assert [answer.status_code for answer in await asyncio.gather(*waiting)] == [200] * LIMIT
    # Once its answers came, the robot is served again, the same request included.
    again = await client.get("/v1/cases/one-more", headers=robot)
    assert again.status_code == 200, again.text


async def test_a_refused_or_failed_request_gives_its_place_back(
    client: httpx.AsyncClient, intake: SlowIntake
) -> None:
    robot = await log_in(client, "robot@example.com")
    # Refused before intake (a case id longer than the rule allows), many more than the limit.
    for _ in range(LIMIT * 3):
        bad = await client.get("/v1/cases/" + "x" * 65, headers=robot)
        assert bad.status_code == 422
    intake.release.set()
    answers = await asyncio.gather(
        *(client.get(f"/v1/cases/slow-{n}", headers=robot) for n in range(LIMIT))
    )
    assert [answer.status_code for answer in answers] == [200] * LIMIT
