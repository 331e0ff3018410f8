"""Fixtures of intake's integration tests: a fresh migrated database and intake serving it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from services.intake.tests.integration.intake_harness import Intake, running_intake


@pytest.fixture
async def intake(make_database: Callable[[str], str]) -> AsyncIterator[Intake]:
    """Intake on a fresh database, served in-process over real gRPC."""
    async with running_intake(make_database("intake")) as running:
        yield running
