"""A keyed request acts once: its answer is kept in the transaction of its effect, and a retry
with the same (caller, key) gets that answer back instead of acting again (issue 13, point 9)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from matching.domain.errors import InvalidField
from matching.service_layer.unit_of_work import MatchingUnitOfWork
from recouvra_shared.errors import Conflict

MAX_KEY_LENGTH = 200


async def once(
    uow: MatchingUnitOfWork,
    caller: str,
    key: str,
    fingerprint: str,
    act: Callable[[], Awaitable[bytes]],
) -> tuple[bytes, bool]:
    """The answer to this request and whether it is a replay. `act` runs in `uow` only when
    (caller, key) is new; the caller commits. The same key with another request is refused."""
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidField("idempotency_key", f"at most {MAX_KEY_LENGTH} characters")
    first = await uow.idempotency.claim(caller, key, fingerprint)
    if first is not None:
        first_fingerprint, answer = first
        if first_fingerprint != fingerprint:
            raise Conflict("idempotency_key: already used for another request; choose a new key")
        return answer, True
    answer = await act()
    await uow.idempotency.complete(caller, key, answer)
    return answer, False
