"""The fake webhook store holds to the contract the PostgreSQL one is held to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from services.messaging.tests.unit.webhook_fakes import FakeWebhookUnitOfWork, WebhookTables
from services.messaging.tests.unit.webhook_repository_contract import CONTRACT, Units


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
async def test_the_fake_store(check: Callable[[Units], Awaitable[None]]) -> None:
    tables = WebhookTables()
    await check(lambda: FakeWebhookUnitOfWork(tables))
