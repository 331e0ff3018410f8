"""Telling an outage to wait out from a fault of the work, how long to wait, and how to say
what failed without repeating the personal data a failing statement carried."""

from __future__ import annotations

import random

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, StatementError

# Serialization failure and deadlock: a concurrent transaction won; trying again is the cure.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# The server shutting down or still starting (admin or crash shutdown, cannot connect now).
_SHUTDOWN_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def _driver_outage(exc: BaseException) -> bool:
    """asyncpg's own error, from a unit of work on the driver (`recouvra_shared.driver`, where
    SQLAlchemy does not translate them): the connection lost (class 08), the server shutting
    down or starting, or a concurrent transaction that won."""
    if not isinstance(exc, asyncpg.PostgresError):
        return False
    sqlstate = str(exc.sqlstate or "")
    return (
        sqlstate.startswith("08") or sqlstate in _SHUTDOWN_SQLSTATES or sqlstate in _RETRY_SQLSTATES
    )


def is_transient(exc: BaseException) -> bool:
    """An outage to wait out (database or network down), not a fault of the message."""
    if isinstance(exc, OperationalError | InterfaceError) or _driver_outage(exc):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, OSError | ConnectionError | TimeoutError)


def is_dependency_outage(exc: BaseException) -> bool:
    """A database or a peer that did not answer while a request was served: the request was
    fine, and the same request later may succeed. Narrower than `is_transient`: any other
    OSError (a missing file) is a fault to report, not an outage to retry."""
    if isinstance(exc, OperationalError | InterfaceError) or _driver_outage(exc):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in _RETRY_SQLSTATES:
        return True
    return isinstance(exc, ConnectionError | TimeoutError)


def backoff_delay(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with full jitter for the given attempt (1-based)."""
    ceiling = min(maximum, initial * (2 ** (attempt - 1)))
    return random.uniform(ceiling / 2, ceiling)


def describe_failure(exc: BaseException, limit: int = 2000) -> str:
    """The error's type and first line, safe for logs and dead-letter headers.

    A database error names the driver's error and its first line only: the SQL, its
    parameters and the driver's DETAIL line (which repeats a duplicate key's value) are left out.
    """
    if isinstance(exc, StatementError) and exc.orig is not None:
        original = exc.orig
        cause = getattr(original, "__cause__", None)
        shown = cause if cause is not None and type(original).__name__ == "Error" else original
        first_line = str(shown).strip().splitlines()[0] if str(shown).strip() else ""
        return f"{type(exc).__name__} ({type(shown).__name__}): {first_line}"[:limit]
    if isinstance(exc, asyncpg.PostgresError):  # its DETAIL line repeats the row's values
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{type(exc).__name__}: {first_line}"[:limit]
    return f"{type(exc).__name__}: {exc}"[:limit]
