"""Telling an outage to wait out from a fault of the work, and how long to wait."""

from __future__ import annotations

import random

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

# Serialization failure and deadlock: a concurrent transaction won; trying again is the cure.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})


def is_transient(exc: BaseException) -> bool:
    """An outage to wait out (database or network down), not a fault of the message."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter for the given attempt (1-based)."""
    ceiling = min(maximum, initial * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)
