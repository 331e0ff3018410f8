"""An instalment plan followed by messaging as its own process on the real stack: payments heard
on Kafka count once per payment id (a redelivery republished by matching does not count twice),
a missed instalment breaks the plan on the test clock after the grace (across a SIGKILL), the
contact plan resumes, and the relay publishes messaging.plan-broken.v1 to Kafka."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from google.protobuf.message import Message

from messaging.adapters.unit_of_work import messaging_units
from messaging.domain.instalments import Period, Proposal
from messaging.service_layer import debtor_actions
from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.assignment_events_pb2 import CaseAssigned
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.db import Database
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows
from tests.support.marketplace import OffsetClock, eventually
from tests.support.stack import unique_name

from .messaging_harness import TEST_BOX

pytestmark = pytest.mark.integration

CASE = "case-instalments-1"


async def test_payments_keep_a_plan_until_one_is_missed_then_contact_resumes(
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
    tmp_path: Path,
) -> None:
    prefix = unique_name("msgi") + "."
    producers = {}
    for service in ("intake", "scoring", "matching"):
        producers[service] = AIOKafkaProducer(
            **kafka_as(service, prefix).client_options(), enable_idempotence=True, acks="all"
        )
        await producers[service].start()
    clock = OffsetClock(tmp_path / "clock-offset")
    database_url = make_database("messaging")
    messaging = run_service(
        "messaging",
        database_url,
        prefix,
        clock_offset_file=str(clock.path),
        timer_poll_seconds="0.2",
    ).start()
    database = Database.connect(database_url, pool_size=1)

    async def publish(producer: str, event_type: str, payload: Message) -> None:
        event = new_event(
            producer=producer,
            event_type=event_type,
            version=1,
            case_id=CASE,
            tenant_id="cred-1",
            payload=payload,
        )
        await producers[producer].send_and_wait(
            prefix + event.topic, event.envelope.SerializeToString(), key=CASE.encode()
        )

    async def one(sql: str) -> bool | None:
        return True if await count_rows(database_url, sql) == 1 else None

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
        await eventually(
            lambda: one(f"SELECT count(*) FROM contact_plans WHERE case_id = '{CASE}'"),
            "the holder's contact plan starts",
        )
        now = datetime.now(UTC)
        async with messaging_units(database, TEST_BOX)() as uow:
            plan = await debtor_actions.propose_plan(
                uow,
                case_id=CASE,
                creditor_id="cred-1",
                proposal=Proposal(90_000, "EUR", 3, now.date() + timedelta(days=1), Period.MONTHLY),
                proposed_by="debtor",
                now=now,
            )
        await eventually(
            lambda: one(
                f"SELECT count(*) FROM contact_plans WHERE case_id = '{CASE}'"
                " AND status = 'paused' AND pause_reason = 'instalment-plan'"
            ),
            "the agreed plan pauses contact",
        )
        payment = PaymentAttributed(
            case_id=CASE, payment_id="pay-1", amount=Money(currency="EUR", minor_units=30_000)
        )
        await publish("matching", "payment-attributed", payment)
        await publish("matching", "payment-attributed", payment)  # republished, same payment id
        await eventually(
            lambda: one(
                f"SELECT count(*) FROM instalment_plans WHERE plan_id = '{plan.plan_id}'"
                " AND paid_minor = 30000"
            ),
            "the first instalment is paid",
        )

        async def both_heard() -> bool | None:
            heard = await count_rows(
                database_url,
                "SELECT count(*) FROM inbox WHERE consumer = 'messaging-plans-payment-attributed'",
            )
            return True if heard == 2 else None

        await eventually(both_heard, "both deliveries of the payment are consumed")
        messaging.kill()
        clock.advance(timedelta(days=40))  # the second instalment is due, and its grace ran out
        messaging.start()  # the plan's timer is in the database: nothing is lost while down
        await eventually(
            lambda: one(
                f"SELECT count(*) FROM instalment_plans WHERE plan_id = '{plan.plan_id}'"
                " AND state = 'broken' AND missed_instalment = 2 AND paid_minor = 30000"
            ),
            "the missed instalment breaks the plan",
        )
        await eventually(
            lambda: one(
                f"SELECT count(*) FROM contact_plans WHERE case_id = '{CASE}' AND status = 'active'"
            ),
            "contact resumes",
        )
        await eventually(
            lambda: one(
                "SELECT count(*) FROM outbox WHERE topic = 'messaging.plan-broken.v1'"
                " AND sent_at IS NOT NULL"
            ),
            "the relay published plan-broken to Kafka",
        )
    finally:
        await database.dispose()
        for producer in producers.values():
            await producer.stop()
