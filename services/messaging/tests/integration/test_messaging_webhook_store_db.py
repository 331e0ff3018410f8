"""The webhook store on PostgreSQL holds to the same contract as the fake."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from messaging.adapters.unit_of_work import messaging_units
from messaging.adapters.webhook_secret_box import WebhookSecretBox
from recouvra_shared.db import Database
from recouvra_shared.errors import DataLoss
from services.messaging.tests.unit.webhook_repository_contract import CONTRACT, Units, endpoint
from tests.support.kafka_read import count_rows

pytestmark = pytest.mark.integration
BOX = WebhookSecretBox("integration-tests-webhook-secrets-key")


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
async def test_the_postgresql_store(
    check: Callable[[Units], Awaitable[None]], make_database: Callable[[str], str]
) -> None:
    database = Database.connect(make_database("messaging"))
    try:
        await check(messaging_units(database, BOX))
    finally:
        await database.dispose()


async def test_signing_secrets_are_sealed_at_rest(make_database: Callable[[str], str]) -> None:
    url = make_database("messaging")
    database = Database.connect(url)
    try:
        units = messaging_units(database, BOX)
        stored = endpoint()
        async with units() as uow:
            await uow.webhooks.add_endpoint(stored)
            await uow.commit()
        # Sealed text is base64 (no "_"): a "whsec_" in a column is a secret in clear.
        plain = (
            "SELECT count(*) FROM webhook_endpoints "
            "WHERE secret LIKE '%whsec%' OR previous_secret LIKE '%whsec%'"
        )
        assert await count_rows(url, plain) == 0
        assert await count_rows(url, "SELECT count(*) FROM webhook_endpoints") == 1
        async with units() as uow:
            assert await uow.webhooks.endpoint(stored.creditor_id, stored.endpoint_id) == stored
        other_key = messaging_units(database, WebhookSecretBox("another key of at least 32 bytes!"))
        async with other_key() as uow:
            with pytest.raises(DataLoss):
                await uow.webhooks.endpoint(stored.creditor_id, stored.endpoint_id)
    finally:
        await database.dispose()
