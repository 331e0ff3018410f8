"""Rate limits on the doors a guesser or a flood goes through: log-in, sign-up, key creation.

Each action has a limit per client address and one for the whole gateway (what this replica
accepts from everyone at once), as moving windows kept in memory by the `limits` library. Kept per
replica on purpose: they protect this process's CPU and memory, and the lock-out that guards an
account (failures per email, in PostgreSQL) holds across replicas.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from gateway.domain.errors import TooManyAttempts

# The limited actions (settings login_rate_*, sign_up_rate_*, key_creation_rate_*).
LOG_IN = "log-in"
SIGN_UP = "sign-up"
CREATE_KEY = "key creation"


@dataclass(frozen=True)
class ActionLimit:
    """How often one address, and everyone together, may do one action ("20/minute")."""

    per_address: str
    overall: str


class RateLimits:
    """Counts each action per address and overall; refuses past either limit."""

    def __init__(self, limits: dict[str, ActionLimit]) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._limits: dict[str, tuple[RateLimitItem, RateLimitItem]] = {
            action: (parse(limit.per_address), parse(limit.overall))
            for action, limit in limits.items()
        }

    async def check(self, action: str, address: str) -> None:
        """Count one `action` from `address`; TooManyAttempts, with when to retry, past a limit.

        A refused attempt is not counted against the other limit: an address over its own limit
        does not use up everyone's.
        """
        per_address, overall = self._limits[action]
        if not await self._limiter.hit(per_address, action, "address", address):
            raise await self._refusal(per_address, f"{action} from this address", action, address)
        if not await self._limiter.hit(overall, action, "overall"):
            raise await self._refusal(overall, f"{action} on this server", action)

    async def _refusal(self, item: RateLimitItem, what: str, *keys: str) -> TooManyAttempts:
        stats = await self._limiter.get_window_stats(item, *keys)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return TooManyAttempts(
            retry_after, f"too many attempts: {what} is limited to {item}; retry in {retry_after} s"
        )
