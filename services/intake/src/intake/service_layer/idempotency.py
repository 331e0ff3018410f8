"""Idempotent changes: the change, its first answer and its events commit together, once per
(owner, key); a replay returns that first answer, a replay with other content is refused.

The answer is kept as the caller saw it (the bytes of its reply), so a replay repeats it exactly
even after the case has moved on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from intake.domain.commands import IdempotencyKey
from intake.domain.errors import ConcurrentClaim, IdempotencyConflict
from intake.service_layer.unit_of_work import IntakeUnitOfWork

# How many times a change is tried: a second attempt sees the transaction it raced with.
ATTEMPTS = 2


@dataclass(frozen=True)
class Reply:
    """The answer to a change, and whether it is the replay of an earlier one."""

    content: bytes
    replayed: bool


def fingerprint(operation: str, content: bytes) -> bytes:
    """What an idempotency key is bound to: the operation and the request's content."""
    hasher = hashlib.sha256(operation.encode() + b"\0")
    hasher.update(content)  # never a second copy of a large file
    return hasher.digest()


async def once(
    unit_of_work: Callable[[], IntakeUnitOfWork],
    owner: str,
    operation: str,
    key: IdempotencyKey,
    change: Callable[[IntakeUnitOfWork], Awaitable[bytes]],
) -> Reply:
    """Make the change and commit it with its answer, unless this key already has an answer.

    Two requests racing on one key or one invoice: the loser's transaction fails
    (ConcurrentClaim) and is tried again, when it answers like a replay or a duplicate.
    """
    request_hash = fingerprint(operation, key.content)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            async with unit_of_work() as uow:
                if key.key:
                    seen = await uow.idempotency.remembered(owner, key.key)
                    if seen is not None:
                        return replay(seen, request_hash)
                answer = await change(uow)
                if key.key:
                    await uow.idempotency.remember(owner, key.key, operation, request_hash, answer)
                await uow.commit()
                return Reply(answer, replayed=False)
        except ConcurrentClaim:
            if attempt == ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def replay(seen: tuple[bytes, bytes | None], request_hash: bytes) -> Reply:
    """The first answer stored under a key, for a request of the same content; refused when
    the key was first used for other content (or its first change never answered)."""
    first_hash, answer = seen
    if first_hash != request_hash or answer is None:
        raise IdempotencyConflict(
            "was already used for a different request; use a new key for new content"
        )
    return Reply(answer, replayed=True)
