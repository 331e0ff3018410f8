"""Helpers of the end-to-end tests that drive the marketplace: polling for what must happen,
a test clock for the matching process, callers of matching's gRPC API, and the gateway's HTTP
door."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import grpc
import httpx

from tests.support.fixtures import ServiceProcess
from tests.support.identity import CallAs, as_person, as_service
from tests.support.kafka_read import count_rows
from tests.support.stack import free_port, unique_name

T = TypeVar("T")
PASSWORD = "correct horse battery staple"


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, within: float = 60) -> T:
    """Poll until the probe returns something, or fail naming what never happened; a service
    still starting (UNAVAILABLE) or a case not there yet (NOT_FOUND) counts as "not yet"."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            found = await probe()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.NOT_FOUND):
                raise
            found = None
        if found is not None:
            return found
        await asyncio.sleep(0.2)
    raise AssertionError(f"never happened: {what}")


class OffsetClock:
    """Moves the matching process's clock by writing its offset file (development only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = timedelta(0)
        path.write_text("0")

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
        self.path.write_text(str(self.offset.total_seconds()))


def as_provider(provider_id: str) -> CallAs:
    """gRPC metadata of a call to matching made by this provider (the token the gateway
    signs for it)."""
    return as_person("matching", "provider", provider_id, provider_id)


def as_gateway() -> CallAs:
    """gRPC metadata of the gateway calling matching as itself (to onboard a provider)."""
    return as_service("matching", "gateway")


def as_operator() -> CallAs:
    """gRPC metadata of an operator's call to matching, through the gateway (approvals)."""
    return as_person("matching", "operator", "", "user:operator")


def as_creditor(creditor_id: str) -> CallAs:
    """gRPC metadata of a call to matching made by a user of this creditor."""
    return as_person("matching", "creditor", creditor_id, "finance@creditor")


async def outbox_drained(database_url: str, what: str = "the outbox drains") -> None:
    """Wait until every event a service recorded has been published to Kafka."""

    async def drained() -> bool | None:
        unsent = await count_rows(database_url, "SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        return True if unsent == 0 else None

    await eventually(drained, what)


def idempotency_key() -> dict[str, str]:
    """A fresh Idempotency-Key header, as a client sends with each new POST."""
    return {"Idempotency-Key": str(uuid.uuid4())}


async def wait_http(
    client: httpx.AsyncClient, gateway: ServiceProcess, within: float = 180
) -> None:
    """Block until the gateway's HTTP door answers, failing with its log if it died."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert gateway.exited() is None, gateway.log_text()[-3000:]
        try:
            if (await client.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise TimeoutError(gateway.log_text()[-3000:])


async def log_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    """A bearer header for the account with this email."""
    login = await client.post("/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


# A creditor company's SIREN (valid, trading): a creditor gives one before its first case.
CREDITOR_SIREN = "732829320"


async def operator_log_in(client: httpx.AsyncClient, gateway: ServiceProcess) -> dict[str, str]:
    """An operator of this gateway, made by its command line (the only way to make one), then
    logged in over REST; a bearer header."""
    email = f"{unique_name('operator')}@recouvra.test"
    gateway.run_command("operators", "create", email, RECOUVRA_OPERATOR_PASSWORD=PASSWORD)
    return await log_in(client, email)


async def approve_provider(
    client: httpx.AsyncClient, operator: dict[str, str], provider_id: str
) -> None:
    """The operator approves the provider: from now on it takes part in auctions."""
    approved = await client.post(
        f"/v1/operator/providers/{provider_id}/approve",
        json={"reason": "vetted by the test"},
        headers=operator | idempotency_key(),
    )
    assert approved.status_code == 200, approved.text


async def sign_up_provider(
    client: httpx.AsyncClient, name: str, siren: str, *, operator: dict[str, str] | None = None
) -> tuple[str, dict[str, str]]:
    """A commissaire de justice working all of France, signed up and logged in over REST, and
    approved by `operator` when given (a new provider is pending until then); returns its
    provider id (its organisation id) and a bearer header."""
    email = f"{unique_name('provider')}@example.fr"
    signed = await client.post(
        "/v1/provider/accounts",
        json={
            "organisation_name": name,
            "siren": siren,
            "email": email,
            "password": PASSWORD,
            "profile": {
                "kind": "commissaire",
                "regions": ["FR"],
                "serves_business": True,
                "serves_consumer": True,
                "min_amount": {"amount": "100.00", "currency": "EUR"},
                "max_amount": {"amount": "100000.00", "currency": "EUR"},
                "judicial": True,
                "capacity": 5,
            },
        },
        headers=idempotency_key(),
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["kind"] == "provider"
    if operator is not None:
        await approve_provider(client, operator, signed.json()["id"])
    return signed.json()["id"], await log_in(client, email)


async def first_streamed_auction(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> dict[str, Any]:
    """The first auction the server-sent event stream pushes to this provider."""
    async with client.stream("GET", "/v1/provider/auctions/stream", headers=headers) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                found: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return found
    raise AssertionError("the auction stream ended without an auction")


@dataclass
class Marketplace:
    """Intake, scoring, matching (on a clock the test moves) and the gateway, as processes on
    databases of their own, under one topic prefix."""

    prefix: str
    clock: OffsetClock
    databases: dict[str, str]
    intake: ServiceProcess
    scoring: ServiceProcess
    matching: ServiceProcess
    gateway: ServiceProcess
    http_port: int

    @property
    def processes(self) -> tuple[ServiceProcess, ...]:
        """Front to back: the gateway first, as they are stopped."""
        return (self.gateway, self.matching, self.scoring, self.intake)

    async def start(self) -> None:
        """Start them back to front, one at a time: kinder to a busy machine."""
        for process in reversed(self.processes):
            await asyncio.to_thread(process.start)


def marketplace(
    name: str,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    clock_path: Path,
) -> Marketplace:
    """The four services of a marketplace test, configured but not started."""
    prefix = unique_name(name) + "."
    clock = OffsetClock(clock_path)
    databases = {s: make_database(s) for s in ("intake", "scoring", "matching", "gateway")}
    intake = run_service("intake", databases["intake"], prefix)
    scoring = run_service("scoring", databases["scoring"], prefix, intake_target=intake.target)
    matching = run_service(
        "matching",
        databases["matching"],
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    )
    http_port = free_port()
    gateway = run_service(
        "gateway",
        databases["gateway"],
        prefix,
        http_port=str(http_port),
        intake_target=intake.target,
        matching_target=matching.target,
    )
    return Marketplace(prefix, clock, databases, intake, scoring, matching, gateway, http_port)


async def sign_up_creditor(client: httpx.AsyncClient) -> dict[str, str]:
    """A new creditor company (its SIREN given, as before a first case), signed up and logged
    in over REST; a bearer header."""
    email = f"{unique_name('creditor')}@example.fr"
    signed = await client.post(
        "/v1/accounts",
        json={
            "organisation_name": "Atelier Dupuis",
            "siren": CREDITOR_SIREN,
            "email": email,
            "password": PASSWORD,
        },
        headers=idempotency_key(),
    )
    assert signed.status_code == 201, signed.text
    return await log_in(client, email)
