"""Settlement as its own process on the real stack: a payment matching attributed, delivered twice
on Kafka as matching's user, is booked once with the configured commission, and its invoices are
issued by the service once the operator has set the parties' billing identities."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaProducer

from recouvra.common.v1.money_pb2 import Money
from recouvra.common.v1.percentage_pb2 import Percentage
from recouvra.events.v1.matching_events_pb2 import PaymentAttributed
from recouvra_shared.events import new_event
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.fixtures import ServiceProcess
from tests.support.kafka_read import count_rows
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration

CASE = "3c1d9a52-6a7e-4c1b-9f57-2b1e0c4d5a61"


def settlement_command(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m settlement ARGS` against the service's database, as an operator runs it."""
    env = {**os.environ, "RECOUVRA_ENV": "development", "RECOUVRA_SETTLEMENT_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "settlement", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def wait_for(url: str, sql: str, wanted: int, seconds: float = 90) -> int:
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(url, sql)
        if found >= wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.3)


async def test_an_attributed_payment_on_kafka_is_booked_once(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    kafka_as: Callable[[str, str], KafkaConnection],
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("settlement")
    run_service("settlement", url, prefix, fee_commission_bp="1000").start()
    event = new_event(
        producer="matching",
        event_type="payment-attributed",
        version=1,
        case_id=CASE,
        tenant_id="cred-1",
        payload=PaymentAttributed(
            case_id=CASE,
            payment_id="pay-1",
            amount=Money(currency="EUR", minor_units=100_000),
            paid_on="2026-11-30",
            source="creditor",
            provider_id="prov-1",
            round=1,
            fixed_fee=Money(currency="EUR", minor_units=0),
            success_fee=Percentage(basis_points=1_200),
            fee_base="collected",
        ),
    )
    producer = AIOKafkaProducer(**kafka_as("matching", prefix).client_options())
    await producer.start()
    try:
        for _ in range(2):  # delivered twice: booked once
            await producer.send_and_wait(
                prefix + "matching.payment-attributed.v1",
                event.envelope.SerializeToString(),
                key=CASE.encode(),
            )
    finally:
        await producer.stop()
    assert await wait_for(url, "SELECT count(*) FROM fee_bookings", 1) == 1
    # 12 % of 1,000.00 = 120.00 (+ 24.00 VAT) and the configured 10 % commission: 12.00.
    assert (
        await count_rows(
            url,
            "SELECT count(*) FROM fee_bookings WHERE percent_part = 12000 AND commission = 1200",
        )
        == 1
    )
    await asyncio.sleep(2)  # the second delivery has had time to arrive
    assert await count_rows(url, "SELECT count(*) FROM journal_entries") == 2
    assert await count_rows(url, "SELECT count(*) FROM inbox") == 1

    # Its invoices wait for the parties' billing identities, then the running service issues
    # them in the background: the fee to the creditor, the commission to the provider, once.
    assert await count_rows(url, "SELECT count(*) FROM invoice_requests") == 2
    assert await count_rows(url, "SELECT count(*) FROM invoices") == 0
    for role, party, name, siren, vat in (
        ("creditor", "cred-1", "Boulangerie Martin", "542107651", "FR13542107651"),
        ("provider", "prov-1", "Cabinet Dupont", "732829320", "FR44732829320"),
    ):
        done = settlement_command(
            url, "billing", "identity", role, party, "--name", name, "--address", "1 rue Haute",
            "--postcode", "75002", "--city", "Paris", "--siren", siren, "--vat-number", vat,
            "--operator", "ops-anne",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    assert await wait_for(url, "SELECT count(*) FROM invoice_documents", 2, seconds=120) == 2
    numbers = "SELECT count(*) FROM invoices WHERE series IN ('HON-prov-1', 'COM')"
    assert await count_rows(url, numbers) == 2
    assert (
        await count_rows(url, "SELECT count(*) FROM invoice_requests WHERE invoice_id IS NULL") == 0
    )
