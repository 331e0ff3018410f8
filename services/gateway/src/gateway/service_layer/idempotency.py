"""Idempotent gateway-owned POSTs: the effect and its first response commit together."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway.domain.errors import IdempotencyConflict
from gateway.service_layer.unit_of_work import GatewayUnitOfWork


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


def _replay(seen: tuple[str, int, Any], fingerprint: str) -> Answer:
    request_hash, status_code, body = seen
    if request_hash != fingerprint:
        raise IdempotencyConflict("this key was already used with a different request")
    return Answer(status_code, body, replayed=True)
