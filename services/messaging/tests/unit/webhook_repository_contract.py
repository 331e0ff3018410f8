"""What any webhook store must do, run on the fake (unit) and on PostgreSQL (integration), so the
fake the use-case tests rely on cannot drift from the real one."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from messaging.domain.webhooks import WebhookEndpoint
from messaging.service_layer.webhook_ports import (
    DELIVERED,
    PENDING,
    Attempt,
    Delivery,
    WebhookUnitOfWork,
)

Units = Callable[[], WebhookUnitOfWork]
NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def endpoint(creditor: str = "cred-1", enabled: bool = True) -> WebhookEndpoint:
    return WebhookEndpoint(
        endpoint_id=str(uuid.uuid4()),
        creditor_id=creditor,
        url="https://hooks.example.com/in",
        event_types=("case.assigned", "case.closed"),
        secret="whsec_bmV3",
        previous_secret="whsec_b2xk",
        previous_secret_until=NOW + timedelta(hours=24),
        enabled=enabled,
        disabled_reason="" if enabled else "by hand",
        description="ERP",
        created_at=NOW,
    )


def delivery(of: WebhookEndpoint, due: datetime = NOW, event_id: str = "") -> Delivery:
    return Delivery(
        delivery_id=str(uuid.uuid4()),
        endpoint_id=of.endpoint_id,
        creditor_id=of.creditor_id,
        event_id=event_id or str(uuid.uuid4()),
        event_type="case.assigned",
        case_id="case-1",
        message_id=f"msg_{uuid.uuid4().hex}",
        body='{"type":"case.assigned"}',
        status=PENDING,
        attempts=0,
        next_attempt_at=due,
        window_started_at=NOW,
        created_at=due,
    )


async def stored(units: Units, *endpoints: WebhookEndpoint, deliveries: list[Delivery]) -> int:
    async with units() as uow:
        for each in endpoints:
            await uow.webhooks.add_endpoint(each)
        added = await uow.webhooks.add_deliveries(deliveries) if deliveries else 0
        await uow.commit()
    return added


async def endpoints_read_back_as_written_and_only_by_their_creditor(units: Units) -> None:
    mine = endpoint()
    await stored(units, mine, deliveries=[])
    async with units() as uow:
        assert await uow.webhooks.endpoint("cred-1", mine.endpoint_id) == mine
        assert await uow.webhooks.endpoint("cred-2", mine.endpoint_id) is None
        assert await uow.webhooks.endpoint("cred-1", "not-a-uuid") is None
        assert await uow.webhooks.endpoints_of("cred-2") == []
        assert not await uow.webhooks.delete_endpoint("cred-2", mine.endpoint_id)
        changed = replace(
            mine, enabled=False, disabled_reason="failing", event_types=("case.closed",)
        )
        await uow.webhooks.save_endpoint(changed)
        await uow.commit()
    async with units() as uow:
        assert await uow.webhooks.endpoints_of("cred-1") == [changed]


async def an_event_is_queued_once_per_endpoint(units: Units) -> None:
    mine = endpoint()
    first = delivery(mine)
    assert await stored(units, mine, deliveries=[first]) == 1
    async with units() as uow:
        again = replace(delivery(mine, event_id=first.event_id))
        assert await uow.webhooks.add_deliveries([again]) == 0
        await uow.commit()
    async with units() as uow:
        assert await uow.webhooks.delivery("cred-1", first.delivery_id) == first
        assert await uow.webhooks.delivery("cred-2", first.delivery_id) is None
        assert await uow.webhooks.delivery("cred-1", "not-a-uuid") is None


async def a_claim_takes_due_deliveries_of_enabled_endpoints_and_hides_them(units: Units) -> None:
    on, off = endpoint(), endpoint(enabled=False)
    due, later, held = delivery(on), delivery(on, NOW + timedelta(minutes=5)), delivery(off)
    await stored(units, on, off, deliveries=[due, later, held])
    async with units() as uow:
        claimed = await uow.webhooks.claim_due(NOW, timedelta(minutes=2), 10)
        await uow.commit()
    assert [(d.delivery_id, e.endpoint_id) for d, e in claimed] == [
        (due.delivery_id, on.endpoint_id)
    ]
    async with units() as uow:
        assert (
            await uow.webhooks.claim_due(NOW + timedelta(minutes=1), timedelta(minutes=2), 10) == []
        )
        hidden = await uow.webhooks.delivery("cred-1", due.delivery_id)
        assert hidden is not None
        assert hidden.next_attempt_at == NOW + timedelta(minutes=2)


async def the_log_lists_newest_first_with_attempts_in_order(units: Units) -> None:
    mine = endpoint()
    old, new = delivery(mine), delivery(mine, NOW + timedelta(minutes=1))
    await stored(units, mine, deliveries=[old, new])
    async with units() as uow:
        for code in (500, 200):
            await uow.webhooks.add_attempt(
                Attempt(old.delivery_id, NOW, code, 12, "", f"answer {code}")
            )
        await uow.webhooks.save_delivery(replace(old, status=DELIVERED, attempts=2))
        await uow.commit()
    async with units() as uow:
        log = await uow.webhooks.deliveries_of("cred-1", mine.endpoint_id, 10)
        assert await uow.webhooks.deliveries_of("cred-2", mine.endpoint_id, 10) == []
    assert [d.delivery_id for d, _ in log] == [new.delivery_id, old.delivery_id]
    assert [a.status_code for a in log[1][1]] == [500, 200]
    assert log[1][0].status == DELIVERED


async def removing_an_endpoint_removes_its_deliveries(units: Units) -> None:
    mine = endpoint()
    queued = delivery(mine)
    await stored(units, mine, deliveries=[queued])
    async with units() as uow:
        assert await uow.webhooks.delete_endpoint("cred-1", mine.endpoint_id)
        await uow.commit()
    async with units() as uow:
        assert await uow.webhooks.delivery("cred-1", queued.delivery_id) is None
        assert await uow.webhooks.claim_due(NOW, timedelta(minutes=2), 10) == []


CONTRACT = [
    endpoints_read_back_as_written_and_only_by_their_creditor,
    an_event_is_queued_once_per_endpoint,
    a_claim_takes_due_deliveries_of_enabled_endpoints_and_hides_them,
    the_log_lists_newest_first_with_attempts_in_order,
    removing_an_endpoint_removes_its_deliveries,
]
