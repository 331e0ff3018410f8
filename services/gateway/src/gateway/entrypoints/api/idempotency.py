"""Idempotency-Key, owned here and nowhere else: a POST that changes something runs once per
(owner, key); a retry gets the first answer, marked `Idempotent-Replayed: true`; the same key with
another request is refused (409).

Gateway-owned effects (accounts, keys) and their first answer commit together. Calls to backends
that keep no keys of their own (messaging's webhooks) run while this request holds the key, so a
concurrent retry waits for them; when the backend refuses, nothing is remembered and a retry asks
again. Matching and the vault keep keys of their own (issue 13, point 9): `forward` hands them the
key on the call (`idempotency-key` metadata, or the upload's metadata) and holds no transaction
while they work, so a retry after a deadline gets the backend's first answer rather than acting
twice, and no database connection waits on a streaming upload. Intake keeps its own keys too: its
routes hand the key on and mark its replays.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from gateway.domain.errors import IdempotencyConflict
from gateway.entrypoints.api.deps import GatewayServices, Services
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.context import idempotency_key_var

REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass(frozen=True)
class Outcome:
    """A response: what the client gets now, and what a replay will get."""

    status_code: int
    body: Any
    # Differs from body only where the first answer held a secret shown once (a new API key).
    replay_body: Any = None


@dataclass(frozen=True)
class Answer:
    """The response to send, and whether it is a replay."""

    status_code: int
    body: Any
    replayed: bool


def request_fingerprint(secret: bytes, method: str, path: str, body: Any) -> str:
    """A keyed hash of what was asked: same method, path and JSON content, same hash.

    Keyed (HMAC) because a body may hold a password: a leaked record must not allow an
    offline guess of it.
    """
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


async def once(
    unit_of_work: Callable[[], GatewayUnitOfWork],
    owner: str,
    key: str,
    fingerprint: str,
    effect: Callable[[GatewayUnitOfWork], Awaitable[Outcome]],
) -> Answer:
    """Run `effect` once per (owner, key); a replay returns the first response."""
    for _ in range(2):
        async with unit_of_work() as uow:
            seen = await uow.idempotency.remembered(owner, key)
            if seen is not None:
                return _replay(seen, fingerprint)
            # Claimed before the effect runs, so a concurrent retry waits for this one to end
            # rather than racing it (and, say, finding the new account's email already taken).
            if not await uow.idempotency.claim(owner, key, fingerprint):
                continue  # the other request committed first: read and replay its answer
            outcome = await effect(uow)
            stored = outcome.body if outcome.replay_body is None else outcome.replay_body
            await uow.idempotency.complete(owner, key, outcome.status_code, stored)
            await uow.commit()
            return Answer(outcome.status_code, outcome.body, replayed=False)
    raise IdempotencyConflict("a request with this key is still being processed")


async def forwarded(
    unit_of_work: Callable[[], GatewayUnitOfWork],
    owner: str,
    key: str,
    fingerprint: str,
    effect: Callable[[], Awaitable[Outcome]],
) -> Answer:
    """Ask a backend that keeps keys of its own (`effect`, every gRPC call of which carries
    `key`), with no transaction open meanwhile; its answer is remembered here afterwards, so a
    later retry is answered without asking again (and marked as a replay)."""
    async with unit_of_work() as uow:
        seen = await uow.idempotency.remembered(owner, key)
    if seen is not None and seen[1] != 0:
        return _replay(seen, fingerprint)
    token = idempotency_key_var.set(key)
    try:
        outcome = await effect()
    finally:
        idempotency_key_var.reset(token)
    stored = outcome.body if outcome.replay_body is None else outcome.replay_body
    async with unit_of_work() as uow:
        if await uow.idempotency.claim(owner, key, fingerprint):
            await uow.idempotency.complete(owner, key, outcome.status_code, stored)
            await uow.commit()
    return Answer(outcome.status_code, outcome.body, replayed=False)


def _replay(seen: tuple[str, int, Any], fingerprint: str) -> Answer:
    request_hash, status_code, body = seen
    if request_hash != fingerprint:
        raise IdempotencyConflict("this key was already used with a different request")
    return Answer(status_code, body, replayed=True)


def replayed_header(replayed: bool) -> dict[str, str]:
    """The header that marks a replayed answer, when it is one."""
    return {REPLAYED_HEADER: "true"} if replayed else {}


def respond(answer: Answer, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response of an idempotent POST, marked when it is a replay."""
    return JSONResponse(
        answer.body,
        status_code=answer.status_code,
        headers=dict(headers or {}) | replayed_header(answer.replayed),
    )


@dataclass(frozen=True)
class IdempotentPost:
    """One POST and its Idempotency-Key."""

    key: str
    method: str
    path: str
    services: GatewayServices

    async def run(
        self, owner: str, content: Any, effect: Callable[[GatewayUnitOfWork], Awaitable[Outcome]]
    ) -> Answer:
        """Run `effect` once per (owner, key) for this request's `content`."""
        services = self.services
        fingerprint = request_fingerprint(
            services.fingerprint_secret, self.method, self.path, content
        )
        return await once(services.unit_of_work, owner, self.key, fingerprint, effect)

    async def answer(
        self, owner: str, content: Any, effect: Callable[[GatewayUnitOfWork], Awaitable[Outcome]]
    ) -> JSONResponse:
        """Run `effect` once and answer; a replay gets the first answer."""
        return respond(await self.run(owner, content, effect))

    async def forward(
        self, owner: str, content: Any, effect: Callable[[], Awaitable[Outcome]]
    ) -> Answer:
        """Run `effect` against a backend that deduplicates on the key this request forwards."""
        services = self.services
        fingerprint = request_fingerprint(
            services.fingerprint_secret, self.method, self.path, content
        )
        return await forwarded(services.unit_of_work, owner, self.key, fingerprint, effect)

    async def relay_keyed(
        self,
        owner: str,
        content: Any,
        status_code: int,
        call: Callable[[], Awaitable[BaseModel]],
    ) -> JSONResponse:
        """Ask matching (`call`), which keeps the forwarded key, and answer what it said."""

        async def effect() -> Outcome:
            return Outcome(status_code, (await call()).model_dump(mode="json"))

        return respond(await self.forward(owner, content, effect))

    async def relay(
        self,
        owner: str,
        content: Any,
        status_code: int,
        call: Callable[[], Awaitable[BaseModel]],
    ) -> JSONResponse:
        """Ask a backend that keeps no keys (`call`) once per key, and answer what it said."""

        async def effect(uow: GatewayUnitOfWork) -> Outcome:
            return Outcome(status_code, (await call()).model_dump(mode="json"))

        return await self.answer(owner, content, effect)


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description=(
            "Required on every POST: a retry with the same key and the same request returns "
            "the first response; the same key with a different request is refused (409)."
        ),
        examples=["5f0c7c1e-2b7a-4c59-9a53-0f5a2f1d6e21"],
    ),
]


async def _idempotent_post(
    request: Request, services: Services, idempotency_key: IdempotencyKey
) -> IdempotentPost:
    return IdempotentPost(idempotency_key, request.method, request.url.path, services)


Idempotent = Annotated[IdempotentPost, Depends(_idempotent_post)]
