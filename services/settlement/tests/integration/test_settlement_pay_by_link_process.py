"""Pay by link on the real stack: settlement as its own process, the Bridge sandbox as another.
A link asked over gRPC, the payment executed in the sandbox, its signed webhook booked at once as
money announced and told on Kafka; forged and replayed webhooks refused; the camt.053 line then
matches the announcement without a second booking."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest

from recouvra.common.v1.money_pb2 import Money
from recouvra.settlement.v1 import settlement_pb2, settlement_pb2_grpc
from recouvra_shared.db import Database
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN, Entry, camt053
from settlement.adapters.camt053 import read_statements
from settlement.bootstrap import units_of
from settlement.config import SANDBOX_WEBHOOK_SECRET
from settlement.domain.receipts import InvoiceTerm, SettledCase
from settlement.service_layer.statement_import import import_statement
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_service
from tests.support.kafka_read import count_rows, read_topic
from tests.support.stack import Stack, free_port, unique_name

pytestmark = pytest.mark.integration

CASE = "5d2e8b63-7b8f-4d2c-8a68-3c2f1d5e6b72"
TOLERANCE_SECONDS = 10


def wait_listening(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the process exited"
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on {port}")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[[int], str]]:
    """Start the Bridge sandbox posting to settlement's webhook port; its URL."""
    started: list[subprocess.Popen[bytes]] = []

    def start(webhook_port: int) -> str:
        port = free_port()
        log = (tmp_path / "bridge-sandbox.log").open("ab")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "settlement.sandbox",
                "--port",
                str(port),
                "--webhook-url",
                f"http://127.0.0.1:{webhook_port}/webhooks/bridge",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append(process)
        wait_listening(port, process)
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


async def wait_for(url: str, sql: str, wanted: int, seconds: float = 60) -> int:
    deadline = time.monotonic() + seconds
    while True:
        found = await count_rows(url, sql)
        if found >= wanted or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


def link_request(cents: int) -> settlement_pb2.CreatePaymentLinkRequest:
    return settlement_pb2.CreatePaymentLinkRequest(
        case_id=CASE,
        amount=Money(currency="EUR", minor_units=cents),
        payer_company_name="Dupont SARL",
    )


async def test_an_executed_payment_is_announced_once_and_its_bank_line_matches_it(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    sandbox: Callable[[int], str],
) -> None:
    prefix = unique_name("it") + "."
    url = make_database("settlement")
    http_port = free_port()
    sandbox_url = sandbox(http_port)
    settlement = run_service(
        "settlement",
        url,
        prefix,
        bridge_api_url=sandbox_url,
        http_port=str(http_port),
        webhook_tolerance_seconds=str(TOLERANCE_SECONDS),
    ).start()
    database = Database.connect(url, pool_size=2)
    units = units_of(database)
    async with units() as uow:
        await uow.cases.put(
            SettledCase(
                CASE,
                "cred-9",
                True,
                "EUR",
                (InvoiceTerm(150_000, date(2026, 1, 1), date(2026, 1, 31)),),
            )
        )
        await uow.commit()
    channel = settlement.channel()
    links = settlement_pb2_grpc.PaymentLinksStub(channel)
    caller = as_service("settlement", "messaging")
    try:
        first = await links.CreatePaymentLink(link_request(150_000), metadata=caller)
        again = await links.CreatePaymentLink(link_request(150_000), metadata=caller)
        assert first.created
        assert (again.link_id, again.created) == (first.link_id, False)
        assert first.url.startswith(sandbox_url)
        assert first.reference.startswith("RF")

        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as bridge:
            executed = (await bridge.post(f"/sandbox/payment-links/{first.link_id}/execute")).json()
        statuses = [d["status"] for d in executed["deliveries"]]
        assert statuses == [200, 200, 200], statuses
        assert await count_rows(url, "SELECT count(*) FROM payment_announcements") == 1
        assert (
            await count_rows(
                url,
                "SELECT count(*) FROM payment_announcements WHERE status = 'announced' "
                f"AND amount_minor = 150000 AND end_to_end_id = '{first.reference}'",
            )
            == 1
        )

        updated = next(
            d for d in executed["deliveries"] if d["type"] == "payment.transaction.updated"
        )
        body, headers = updated["body"].encode(), updated["headers"]
        webhook = f"http://127.0.0.1:{http_port}/webhooks/bridge"
        async with httpx.AsyncClient(timeout=30) as client:
            forged = body.replace(b'"ACSC"', b'"RJCT"')
            assert (await client.post(webhook, content=forged, headers=headers)).status_code == 401
            unsigned = {"Content-Type": "application/json"}
            assert (await client.post(webhook, content=body, headers=unsigned)).status_code == 401
            replay = await client.post(webhook, content=body, headers=headers)
            assert replay.status_code == 200
            assert replay.json() == {"outcomes": ["duplicate"]}
            await asyncio.sleep(TOLERANCE_SECONDS + 1)
            late = await client.post(webhook, content=body, headers=headers)
            assert late.status_code == 400
            assert "timestamp" in late.json()["refused"]
        # One announcement, one entry: neither the forgery nor the replays booked anything.
        assert await count_rows(url, "SELECT count(*) FROM journal_entries") == 1
        assert SANDBOX_WEBHOOK_SECRET not in settlement.log_text()

        announced = await read_topic(stack, prefix + "settlement.payment-announced.v1")
        assert len(announced.envelopes) == 1
        assert announced.envelopes[0].tenant_id == "cred-9"

        # The next day's statement: the line books the money once and clears the announcement.
        (statement,) = read_statements(
            camt053([Entry(150_000, end_to_end_id=first.reference, reference=first.reference)])
        )
        report = await import_statement(statement, units, CLIENT_MONEY_IBAN)
        assert report.by_reference == 1
        assert (
            await count_rows(
                url, "SELECT count(*) FROM payment_announcements WHERE status = 'matched'"
            )
            == 1
        )
        assert await count_rows(url, "SELECT count(*) FROM receipts") == 1
        for account, balance in (("5112", 0), ("4718", 0), ("5121", 150_000)):
            booked = await count_rows(
                url,
                "SELECT coalesce(sum(debit) - sum(credit), 0) FROM journal_lines "
                f"WHERE account_code = '{account}'",
            )
            assert booked == balance, account
        received = await read_topic(stack, prefix + "settlement.payment-received.v1")
        assert len(received.envelopes) == 1

        # A new amount: the old link is revoked at the sandbox, a new one given.
        smaller = await links.CreatePaymentLink(link_request(40_000), metadata=caller)
        assert smaller.created
        assert smaller.replaced_link_id == ""  # the first one was completed by its payment

        # Executed, then rejected by the debtor's bank (Bridge warns it happens): unwound, told.
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as bridge:
            paid = await bridge.post(f"/sandbox/payment-links/{smaller.link_id}/execute")
            assert [d["status"] for d in paid.json()["deliveries"]] == [200, 200, 200]
            rejected = await bridge.post(f"/sandbox/payment-links/{smaller.link_id}/reject")
            assert [d["status"] for d in rejected.json()["deliveries"]] == [200]
        unwound = (
            "SELECT count(*) FROM payment_announcements WHERE status = 'unwound' "
            "AND unwind_reason = 'rejected' AND amount_minor = 40000"
        )
        assert await count_rows(url, unwound) == 1
        told = await read_topic(stack, prefix + "settlement.payment-announcement-unwound.v1")
        assert len(told.envelopes) == 1
        assert (
            await count_rows(
                url,
                "SELECT coalesce(sum(debit) - sum(credit), 0) FROM journal_lines "
                "WHERE account_code = '5112'",
            )
            == 0
        )
    finally:
        await channel.close()
        await database.dispose()
        assert settlement.stop() == 0
