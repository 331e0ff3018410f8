"""Helpers of the end-to-end tests that drive the marketplace: polling for what must happen,
a test clock for the matching process, and the gateway's HTTP door."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import grpc
import httpx

from tests.support.fixtures import ServiceProcess

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


def idempotency_key() -> dict[str, str]:
    """A fresh Idempotency-Key header, as a client sends with each new POST."""
    return {"Idempotency-Key": str(uuid.uuid4())}


async def wait_http(client: httpx.AsyncClient, gateway: ServiceProcess, within: float = 30) -> None:
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
