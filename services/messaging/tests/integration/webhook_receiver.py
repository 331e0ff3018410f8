"""A creditor's webhook receiver on 127.0.0.1 (uvicorn, a real HTTP server): it verifies every
signature with standardwebhooks, records what came, and answers 500 to the first request."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support.stack import free_port

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass
class Received:
    path: str
    webhook_id: str
    body: dict[str, Any]
    verified: bool
    answered: int


@dataclass
class Receiver:
    port: int
    fail_first: int = 1
    secrets: dict[str, str] = field(default_factory=dict)  # path -> the endpoint's secret
    requests: list[Received] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def delivered(self) -> list[Received]:
        """What was answered 2xx, in arrival order."""
        return [r for r in self.requests if 200 <= r.answered < 300]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks).decode()
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        secret = self.secrets.get(scope["path"])
        try:
            body = Webhook(secret).verify(raw, headers) if secret else json.loads(raw)
            verified = secret is not None
        except WebhookVerificationError:
            body, verified = json.loads(raw), False
        status = 500 if len(self.requests) < self.fail_first else 200
        self.requests.append(
            Received(scope["path"], headers.get("webhook-id", ""), body, verified, status)
        )
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"fail" if status == 500 else b"ok"})


@contextlib.asynccontextmanager
async def running_receiver() -> AsyncIterator[Receiver]:
    """The receiver served by uvicorn on a free port of 127.0.0.1 until the block ends."""
    receiver = Receiver(port=free_port())
    server = uvicorn.Server(
        uvicorn.Config(receiver, host="127.0.0.1", port=receiver.port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task
