"""Outages told from faults, whichever layer raised them, and said without the row's values."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest

from recouvra_shared.outages import describe_failure, is_dependency_outage, is_transient

LOST = asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle")
SHUTDOWN = asyncpg.exceptions.AdminShutdownError("terminating connection due to admin command")
STARTING = asyncpg.exceptions.CannotConnectNowError("the database system is starting up")
DEADLOCK = asyncpg.exceptions.DeadlockDetectedError("deadlock detected")


@pytest.mark.parametrize("error", [LOST, SHUTDOWN, STARTING, DEADLOCK])
def test_the_drivers_own_outages_are_outages(error: Exception) -> None:
    assert is_dependency_outage(error)
    assert is_transient(error)


def test_a_refused_row_from_the_driver_is_a_fault_said_without_its_values() -> None:
    refused = asyncpg.exceptions.UniqueViolationError(
        'duplicate key value violates unique constraint "invoice_once"'
    )
    refused.detail = "Key (invoice_number)=(F-2026-0042) already exists."

    assert not is_dependency_outage(refused)
    assert not is_transient(refused)
    said = describe_failure(refused)
    assert said == (
        'UniqueViolationError: duplicate key value violates unique constraint "invoice_once"'
    )
    assert "F-2026-0042" not in said
