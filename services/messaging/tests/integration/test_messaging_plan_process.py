"""Messaging as its own process on the real stack: it consumes intake's, scoring's and matching's
facts from Kafka, fires its plan timers on a test clock, keeps them across a SIGKILL, stops on
a full payment, goes on from the next step when a bank reversal reopens the case (once, however
often the fact is delivered), and serves the creditor its postponements over mutual TLS."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from messaging.adapters.calendar import FrenchHolidays
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned, CaseReopened
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra.events.v1.settlement_events_pb2 import PaymentAnnounced, PaymentAnnouncementUnwound
from recouvra.messaging.v1 import messaging_pb2, messaging_pb2_grpc
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.kafka_read import count_rows, one
from tests.support.marketplace import OffsetClock, eventually
from tests.support.stack import unique_name

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
CASE = "case-plan-1"


def quiet_monday_11h_paris(now: datetime) -> datetime:
    """The next Monday, 11:00 in Paris, that is no holiday and neither is the Monday after:
    steps 1 and 2 are then due at allowed moments."""
    holidays = FrenchHolidays()
    day = now.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() != 0 or holidays(day) or holidays(day + timedelta(days=7)):
        day += timedelta(days=1)
    return datetime.combine(day, time(11), PARIS)


def quiet_weekday_11h_paris(now: datetime) -> datetime:
    """The next weekday, 11:00 in Paris, that is no holiday: a step due then goes at once."""
    holidays = FrenchHolidays()
    day = now.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() > 4 or holidays(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(11), PARIS)


async def test_plan_timers_follow_kafka_facts_and_survive_a_restart(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    tmp_path: Path,
) -> None:
    prefix = unique_name("msg") + "."
    producers = {}
    for service in ("intake", "scoring", "matching", "settlement"):
        producers[service] = AIOKafkaProducer(
            **kafka_as(service, prefix).client_options(), enable_idempotence=True, acks="all"
        )
        await producers[service].start()
    clock = OffsetClock(tmp_path / "clock-offset")
    start = quiet_monday_11h_paris(datetime.now(UTC))
    clock.advance(start - datetime.now(UTC))
    database_url = make_database("messaging")
    messaging = run_service(
        "messaging",
        database_url,
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()

    async def publish(producer: str, event_type: str, payload: Message) -> bytes:
        event = new_event(
            producer=producer,
            event_type=event_type,
            version=1,
            case_id=CASE,
            tenant_id="cred-1",
            payload=payload,
        )
        raw = event.envelope.SerializeToString()
        await producers[producer].send_and_wait(prefix + event.topic, raw, key=CASE.encode())
        return raw

    async def messages(step: int) -> int:
        return await count_rows(
            database_url,
            f"SELECT count(*) FROM outgoing_messages WHERE case_id = '{CASE}' AND step = {step}",
        )

    async def recorded(step: int) -> bool | None:
        return True if await messages(step) == 1 else None

    try:
        await publish(
            "intake",
            "case-submitted",
            CaseSubmitted(
                case_id=CASE, creditor_id="cred-1", debtor_key="k-debtor", debtor_region="FR-IDF"
            ),
        )
        await publish(
            "scoring", "case-scored", CaseScored(case_id=CASE, strategy="amicable-reminders")
        )
        await publish(
            "matching", "case-assigned", CaseAssigned(case_id=CASE, provider_id="prov-1", round=1)
        )
        await eventually(lambda: recorded(1), "the first letter is let go")
        # No intake or settlement answers here, so the channels cannot compose the letter: it is
        # recorded and never reported sent (tests/integration/test_messaging_channels.py sends
        # for real, with those services serving).
        sent = await count_rows(
            database_url,
            f"SELECT count(*) FROM outgoing_messages WHERE case_id = '{CASE}' AND status = 'sent'",
        )
        assert sent == 0

        messaging.kill()
        clock.advance(timedelta(days=7))  # step 2 comes due while messaging is down
        messaging.start()
        await eventually(lambda: recorded(2), "step 2 fires after the restart")
        assert await messages(1) == 1  # the first letter was not let go twice

        # Paid by link: settlement announces the money (twice, as a redelivery would); the plan
        # holds, so step 3 coming due sends nothing; the bank rejects it: the plan goes on.
        announced = PaymentAnnounced(
            case_id=CASE,
            announcement_id="ann-1",
            amount=Money(currency="EUR", minor_units=120_000),
            announced_at=(datetime.now(UTC) + clock.offset).isoformat(),
        )
        await publish("settlement", "payment-announced", announced)
        await publish("settlement", "payment-announced", announced)

        async def held() -> bool | None:
            rows = await count_rows(
                database_url,
                f"SELECT count(*) FROM contact_plans WHERE case_id = '{CASE}'"
                " AND status = 'paused' AND pause_reason = 'payment-announced'",
            )
            return True if rows == 1 else None

        await eventually(held, "announced money holds the plan")
        clock.advance(timedelta(days=8))  # step 3 comes due while the money is announced
        assert await messages(3) == 0
        await publish(
            "settlement",
            "payment-announcement-unwound",
            PaymentAnnouncementUnwound(
                case_id=CASE,
                announcement_id="ann-1",
                amount=Money(currency="EUR", minor_units=120_000),
                unwound_at=(datetime.now(UTC) + clock.offset).isoformat(),
                reason="rejected",
            ),
        )
        await eventually(lambda: recorded(3), "the rejected payment lets step 3 go")

        await publish(
            "matching",
            "payment-attributed",
            PaymentAttributed(
                case_id=CASE,
                payment_id="pay-1",
                amount=Money(currency="EUR", minor_units=120_000),
                settles_in_full=True,
            ),
        )

        async def stopped() -> bool | None:
            status = await count_rows(
                database_url,
                f"SELECT count(*) FROM contact_plans WHERE case_id = '{CASE}'"
                " AND status = 'stopped' AND stop_reason = 'paid-in-full'",
            )
            return True if status == 1 else None

        await eventually(stopped, "a full payment stops the plan")
        clock.advance(timedelta(days=30))
        messaging.stop()
        messaging.start()
        assert await messages(4) == 0

        # The creditor reads its postponements (none: every step fell in allowed hours).
        async with messaging.channel() as channel:
            stub = messaging_pb2_grpc.ContactPlanServiceStub(channel)
            listed = await stub.ListPostponements(
                messaging_pb2.ListPostponementsRequest(case_id=CASE),
                metadata=as_person("messaging", "creditor", "cred-1"),
                timeout=10,
            )
            assert list(listed.postponements) == []
            limits = await stub.GetContactLimits(
                messaging_pb2.GetContactLimitsRequest(),
                metadata=as_person("messaging", "creditor", "cred-1"),
                timeout=10,
            )
            assert (limits.per_day, limits.per_week, limits.platform_default) == (1, 3, True)
            with pytest.raises(grpc.aio.AioRpcError) as laxer:
                await stub.SetContactLimits(
                    messaging_pb2.SetContactLimitsRequest(
                        limits=messaging_pb2.ContactLimits(
                            per_day=1, per_week=3, start_hour=10, end_hour=22, weekdays=[0, 1]
                        )
                    ),
                    metadata=as_person("messaging", "creditor", "cred-1"),
                    timeout=10,
                )
            assert laxer.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "end_hour" in (laxer.value.details() or "")
            with pytest.raises(grpc.aio.AioRpcError) as provider:
                await stub.GetContactLimits(
                    messaging_pb2.GetContactLimitsRequest(),
                    metadata=as_person("messaging", "provider", "prov-1"),
                    timeout=10,
                )
            assert provider.value.code() == grpc.StatusCode.PERMISSION_DENIED

        # A bank reversal reopens the case back with prov-1: the plan goes on with step 4, the
        # one after the last sent; the same fact delivered again sends nothing more.
        moment = datetime.now(UTC) + clock.offset
        clock.advance(quiet_weekday_11h_paris(moment) - moment)
        reopened = await publish(
            "matching", "case-reopened", CaseReopened(case_id=CASE, provider_id="prov-1", round=1)
        )
        await producers["matching"].send_and_wait(
            prefix + "matching.case-reopened.v1", reopened, key=CASE.encode()
        )
        await eventually(lambda: recorded(4), "the reopened case's plan sends step 4")
        behind = await publish(  # after the copy in the same partition: the copy was handled
            "matching", "case-reopened", CaseReopened(case_id="case-other", round=1)
        )
        behind_id = EventEnvelope.FromString(behind).event_id
        await eventually(
            lambda: one(
                database_url,
                "SELECT count(*) FROM inbox WHERE consumer = 'messaging-plans-case-reopened'"
                f" AND event_id = '{behind_id}'",
            ),
            "the fact behind the copy is handled",
        )
        assert [await messages(step) for step in (1, 2, 3, 4)] == [1, 1, 1, 1]
    finally:
        for producer in producers.values():
            await producer.stop()
