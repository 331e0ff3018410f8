"""Creditors' webhooks on fakes: what a receiver verifies, when retries come, what is refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from messaging.domain.webhooks import RETRY_PERIOD, next_attempt_at, retry_pause, webhook_id
from messaging.service_layer import webhook_delivery, webhooks
from messaging.service_layer.webhook_delivery import WebhookFact
from messaging.service_layer.webhook_ports import DELIVERED, FAILED, PENDING
from recouvra_shared.errors import InvalidRequest, NotFound
from services.messaging.tests.unit.webhook_fakes import (
    FakeResolver,
    FakeWebhookUnitOfWork,
    ManualClock,
    RecordingSender,
    WebhookTables,
)

CREDITOR = "cred-1"
OTHER_CREDITOR = "cred-2"
PUBLIC_POLICY = webhooks.WebhookPolicy(allow_private=False)


class World:
    def __init__(self) -> None:
        self.tables = WebhookTables()
        self.clock = ManualClock()
        self.resolver = FakeResolver()

    def uow(self) -> FakeWebhookUnitOfWork:
        return FakeWebhookUnitOfWork(self.tables)

    async def register(self, *event_types: str, creditor: str = CREDITOR, url: str = "") -> str:
        endpoint = await webhooks.register_endpoint(
            webhooks.RegisterEndpoint(
                creditor,
                url or "https://hooks.example.com/recouvra",
                event_types or ("case.assigned",),
            ),
            self.uow(),
            policy=PUBLIC_POLICY,
            resolve=self.resolver,
            now=self.clock,
        )
        return endpoint.endpoint_id

    async def event(self, event_id: str, event_type: str = "case.assigned") -> int:
        uow = self.uow()
        async with uow:
            added = await webhook_delivery.enqueue_fact(
                WebhookFact(
                    event_id=event_id,
                    event_type=event_type,
                    creditor_id=CREDITOR,
                    case_id="case-9",
                    occurred_at=self.clock(),
                    data={
                        "case_id": "case-9",
                        "amount": {"currency": "EUR", "minor_units": "1250"},
                    },
                ),
                uow,
                now=self.clock,
            )
            await uow.commit()
        return added

    async def deliver(self, sender: RecordingSender) -> int:
        return await webhook_delivery.deliver_due(
            self.uow, sender, now=self.clock, jitter=lambda: 1.0
        )

    def secret(self, endpoint_id: str) -> str:
        return self.tables.endpoints[endpoint_id].secret


EVENT_ID = "0b8a3c1e-8f0e-4c5d-9a47-3f3c2f4b9e11"


@pytest.fixture
def world() -> World:
    return World()


async def test_a_receiver_verifies_the_signature_with_standardwebhooks(world: World) -> None:
    endpoint_id = await world.register("case.assigned")
    assert await world.event(EVENT_ID) == 1
    sender = RecordingSender(200)
    assert await world.deliver(sender) == 1

    [(url, headers, body)] = sender.posts
    assert url == "https://hooks.example.com/recouvra"
    payload = Webhook(world.secret(endpoint_id)).verify(body, headers)
    assert payload["type"] == "case.assigned"
    assert payload["data"]["case_id"] == "case-9"
    assert headers["webhook-id"] == webhook_id(EVENT_ID, endpoint_id)
    assert world.tables.deliveries.popitem()[1].status == DELIVERED


async def test_a_signature_made_with_another_secret_does_not_verify(world: World) -> None:
    await world.register("case.assigned")
    await world.event(EVENT_ID)
    sender = RecordingSender(200)
    await world.deliver(sender)
    [(_, headers, body)] = sender.posts
    stranger = Webhook("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=")
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        stranger.verify(body, headers)


async def test_during_a_rotation_both_secrets_verify(world: World) -> None:
    endpoint_id = await world.register("case.assigned")
    old_secret = world.secret(endpoint_id)
    rotated = await webhooks.rotate_secret(CREDITOR, endpoint_id, world.uow(), now=world.clock)
    assert rotated.secret != old_secret
    await world.event(EVENT_ID)
    sender = RecordingSender(200)
    await world.deliver(sender)
    [(_, headers, body)] = sender.posts
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old_secret).verify(body, headers)
    Webhook(rotated.secret).verify(body, headers)


async def test_a_day_after_a_rotation_only_the_new_secret_verifies(world: World) -> None:
    # Standard Webhooks receivers refuse a timestamp 5 minutes off their clock: the rotation
    # happens 25 hours back on the test clock, the post at about the real time.
    world.clock.advance(-timedelta(hours=25))
    endpoint_id = await world.register("case.assigned")
    old_secret = world.secret(endpoint_id)
    rotated = await webhooks.rotate_secret(CREDITOR, endpoint_id, world.uow(), now=world.clock)
    world.clock.advance(timedelta(hours=25))
    await world.event(EVENT_ID)
    sender = RecordingSender(200)
    await world.deliver(sender)
    [(_, headers, body)] = sender.posts
    assert len(headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(body, headers)


async def test_a_failed_post_is_retried_with_the_same_id_and_body_after_a_backoff(
    world: World,
) -> None:
    await world.register("case.assigned")
    await world.event(EVENT_ID)
    sender = RecordingSender(500, 200)
    await world.deliver(sender)
    [delivery] = world.tables.deliveries.values()
    assert delivery.status == PENDING
    assert delivery.next_attempt_at == world.clock() + timedelta(seconds=30)
    assert await world.deliver(sender) == 0  # not due yet

    world.clock.advance(timedelta(seconds=30))
    await world.deliver(sender)
    first, second = sender.posts
    assert first[1]["webhook-id"] == second[1]["webhook-id"]
    assert first[2] == second[2]
    [delivery] = world.tables.deliveries.values()
    assert delivery.status == DELIVERED
    assert delivery.attempts == 2
    assert [a.status_code for a in world.tables.attempts] == [500, 200]


def test_the_backoff_doubles_with_jitter_up_to_six_hours() -> None:
    assert [retry_pause(n, lambda: 1.0).total_seconds() for n in range(1, 7)] == [
        30,
        60,
        120,
        240,
        480,
        960,
    ]
    assert retry_pause(30, lambda: 1.0) == timedelta(hours=6)
    assert retry_pause(3, lambda: 0.0) == timedelta(seconds=60)  # half the ceiling at least


def test_retries_stop_three_days_after_the_first_attempt(world: World) -> None:
    start = world.clock()
    assert next_attempt_at(start, start + timedelta(days=2, hours=23), 40, lambda: 1.0) == (
        start + RETRY_PERIOD
    )
    assert next_attempt_at(start, start + RETRY_PERIOD, 41, lambda: 1.0) is None


async def test_an_endpoint_failing_for_three_days_is_disabled_and_the_creditor_told(
    world: World,
) -> None:
    endpoint_id = await world.register("case.assigned")
    await world.event(EVENT_ID)
    failing = RecordingSender(*([503] * 100))
    while world.tables.endpoints[endpoint_id].enabled:
        await world.deliver(failing)
        world.clock.advance(timedelta(hours=6))
    [delivery] = world.tables.deliveries.values()
    assert delivery.status == FAILED
    assert len(failing.posts) == delivery.attempts > 10
    assert "three days" in world.tables.endpoints[endpoint_id].disabled_reason
    [notice] = world.tables.notices
    assert notice.creditor_id == CREDITOR
    assert notice.kind == "webhook-endpoint-disabled"

    # A disabled endpoint gets nothing new; enabled again, a replay delivers the failed one.
    assert await world.event("7d2b1d8e-4b7a-4d55-8d43-51f6b1bd3a02") == 0
    await webhooks.change_endpoint(
        webhooks.ChangeEndpoint(CREDITOR, endpoint_id, enabled=True),
        world.uow(),
        policy=PUBLIC_POLICY,
        resolve=world.resolver,
    )
    await webhook_delivery.replay_delivery(
        CREDITOR, delivery.delivery_id, world.uow(), now=world.clock
    )
    working = RecordingSender(200)
    await world.deliver(working)
    assert working.posts[0][1]["webhook-id"] == failing.posts[0][1]["webhook-id"]
    assert world.tables.deliveries[delivery.delivery_id].status == DELIVERED


async def test_each_event_is_enqueued_once_per_endpoint_that_chose_it(world: World) -> None:
    first = await world.register("case.assigned", "case.closed")
    second = await world.register("case.assigned", url="https://other.example.com/hook")
    await world.register("payment.received", url="https://third.example.com/hook")
    await world.register("case.assigned", creditor=OTHER_CREDITOR)
    assert await world.event(EVENT_ID) == 2
    assert await world.event(EVENT_ID) == 0  # the same fact again
    ids = {d.endpoint_id: d.message_id for d in world.tables.deliveries.values()}
    assert set(ids) == {first, second}
    assert ids[first] != ids[second]


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://hooks.example.com/x", "must use https"),
        ("https://127.0.0.1/x", "loopback, private"),
        ("https://10.1.2.3/x", "loopback, private"),
        ("https://192.168.0.10/x", "loopback, private"),
        ("https://169.254.169.254/latest/meta-data", "metadata"),
        ("https://[::1]/x", "loopback, private"),
        ("https://[::ffff:127.0.0.1]/x", "loopback, private"),
        ("https://[fd00:ec2::254]/x", "loopback, private"),
        ("https://100.64.0.1/x", "loopback, private"),
        ("https://localhost/x", "loopback or internal"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("not a url", "must use https"),
    ],
)
async def test_an_internal_or_unsafe_url_is_refused_naming_the_field(
    world: World, url: str, rule: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await world.register("case.assigned", url=url)
    [violation] = refused.value.violations
    assert violation.field == "url"
    assert rule in violation.rule
    assert world.tables.endpoints == {}


async def test_a_host_resolving_to_a_private_address_is_refused_on_registration(
    world: World,
) -> None:
    world.resolver.answers["rebind.example.com"] = ["93.184.215.14", "10.0.0.5"]
    with pytest.raises(InvalidRequest) as refused:
        await world.register("case.assigned", url="https://rebind.example.com/hook")
    assert refused.value.violations[0].field == "url"


async def test_development_accepts_a_receiver_on_this_machine(world: World) -> None:
    endpoint = await webhooks.register_endpoint(
        webhooks.RegisterEndpoint(CREDITOR, "http://127.0.0.1:8999/hook", ["case.closed"]),
        world.uow(),
        policy=webhooks.WebhookPolicy(allow_private=True),
        resolve=world.resolver,
        now=world.clock,
    )
    assert endpoint.url == "http://127.0.0.1:8999/hook"


async def test_an_unknown_event_type_is_refused_naming_the_field(world: World) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await world.register("case.exploded")
    assert refused.value.violations[0].field == "event_types"


async def test_another_creditors_endpoint_and_deliveries_read_as_missing(world: World) -> None:
    endpoint_id = await world.register("case.assigned")
    await world.event(EVENT_ID)
    [delivery_id] = world.tables.deliveries
    with pytest.raises(NotFound):
        await webhooks.rotate_secret(OTHER_CREDITOR, endpoint_id, world.uow(), now=world.clock)
    with pytest.raises(NotFound):
        await webhooks.remove_endpoint(OTHER_CREDITOR, endpoint_id, world.uow())
    with pytest.raises(NotFound):
        await webhook_delivery.delivery_log(OTHER_CREDITOR, endpoint_id, world.uow())
    with pytest.raises(NotFound):
        await webhook_delivery.replay_delivery(
            OTHER_CREDITOR, delivery_id, world.uow(), now=world.clock
        )
    assert await webhooks.endpoints_of(OTHER_CREDITOR, world.uow()) == []


async def test_the_delivery_log_shows_each_attempt(world: World) -> None:
    endpoint_id = await world.register("case.assigned")
    await world.event(EVENT_ID)
    await world.deliver(RecordingSender(500))
    world.clock.advance(timedelta(minutes=1))
    await world.deliver(RecordingSender(204))
    [(delivery, attempts)] = await webhook_delivery.delivery_log(CREDITOR, endpoint_id, world.uow())
    assert delivery.status == DELIVERED
    assert [(a.status_code, a.latency_ms, a.response_excerpt) for a in attempts] == [
        (500, 12, "answer 500"),
        (204, 12, "answer 204"),
    ]


async def test_the_body_carries_the_event_and_no_more(world: World) -> None:
    await world.register("case.assigned")
    await world.event(EVENT_ID)
    sender = RecordingSender(200)
    await world.deliver(sender)
    body = json.loads(sender.posts[0][2])
    assert set(body) == {"type", "timestamp", "data"}
