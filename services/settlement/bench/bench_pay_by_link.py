"""Pay by link: payment links created per second, and webhook-to-booking latency (p50, p99).

On a fresh settlement database of the local stack, with the Bridge sandbox as its own process
(real HTTP both ways) and settlement's webhook endpoint served by uvicorn in this process:

- links: N links for N cases through the real use case (`create_payment_link`: the case's lock
  and RF reference in PostgreSQL, Bridge's adapter calling the sandbox over HTTP, the link kept),
  one after the other; links per second.
- webhook to booking: for M of those links the sandbox executes the payment and posts its signed
  webhooks; the time from sending `payment.transaction.updated` to settlement's answer, which it
  gives once the announcement is booked and committed (signature checked, replay claimed, entry
  posted under the ledger's lock, event written to the outbox).

    python services/settlement/bench/bench_pay_by_link.py [--quick] [--links N] [--payments M]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from recouvra_shared.db import Database  # noqa: E402
from services.settlement.tests.unit.camt_files import CLIENT_MONEY_IBAN  # noqa: E402
from settlement.adapters.bridge_payment_links import BridgeConfig, BridgePaymentLinks  # noqa: E402
from settlement.bootstrap import units_of  # noqa: E402
from settlement.config import (  # noqa: E402
    SANDBOX_CLIENT_ID,
    SANDBOX_CLIENT_SECRET,
    SANDBOX_WEBHOOK_SECRET,
)
from settlement.domain.payment_instructions import client_money_account  # noqa: E402
from settlement.entrypoints.provider_webhooks import webhook_app  # noqa: E402
from settlement.service_layer.announced_payments import Clock, receive_notifications  # noqa: E402
from settlement.service_layer.payment_links import (  # noqa: E402
    CreatePaymentLink,
    LinkPolicy,
    create_payment_link,
)
from tests.support.bench_table import Row, report  # noqa: E402
from tests.support.databases import service_database  # noqa: E402
from tests.support.stack import find_stack, free_port  # noqa: E402


def case_id(number: int) -> str:
    return f"9a1b2c3d-0000-4000-8000-{number:012d}"


def wait_listening(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(url: str, sandbox_url: str, webhook_port: int, links: int, payments: int) -> None:
    database = Database.connect(url, pool_size=4)
    units = units_of(database)
    bridge = BridgePaymentLinks(
        BridgeConfig(
            sandbox_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, (SANDBOX_WEBHOOK_SECRET,)
        )
    )
    clock = Clock(lambda: datetime.now(UTC))

    async def receive(notifications):  # type: ignore[no-untyped-def]
        return await receive_notifications(notifications, units, clock, timedelta(minutes=5))

    server = uvicorn.Server(
        uvicorn.Config(
            webhook_app(bridge, receive), host="127.0.0.1", port=webhook_port, log_level="warning"
        )
    )
    serving = asyncio.create_task(server.serve())
    policy = LinkPolicy(
        client_money_account("Recouvra SAS - fonds de tiers", CLIENT_MONEY_IBAN, "AGRIFRPP"), 30
    )
    try:
        await asyncio.to_thread(wait_listening, webhook_port)
        given = []
        start = time.perf_counter()
        for number in range(links):
            link = await create_payment_link(
                CreatePaymentLink(case_id(number), 10_000 + number, "EUR", "service", "messaging"),
                units,
                bridge,
                policy,
                lambda: datetime.now(UTC),
            )
            given.append(link.link.link_id)
        created = links / (time.perf_counter() - start)
        latencies = []
        async with httpx.AsyncClient(base_url=sandbox_url, timeout=30) as sandbox:
            for link_id in given[:payments]:
                answer = (await sandbox.post(f"/sandbox/payment-links/{link_id}/execute")).json()
                (updated,) = (
                    d for d in answer["deliveries"] if d["type"] == "payment.transaction.updated"
                )
                assert updated["status"] == 200, updated
                latencies.append(float(updated["elapsed_ms"]))
        print(f"settlement pay by link: {links} links, {payments} payments executed")
        print(
            f"  links created:      {created:10.1f} links/s (use case + Bridge adapter + sandbox)"
        )
        print(
            f"  webhook to booking: p50 {statistics.median(latencies):7.1f} ms, "
            f"p99 {percentile(latencies, 0.99):7.1f} ms, max {max(latencies):7.1f} ms"
        )
        report(
            [
                Row("settlement pay by link: links created", created, "links/s"),
                Row(
                    "settlement pay by link: webhook to booking p99",
                    percentile(latencies, 0.99),
                    "ms",
                    higher_is_better=False,
                ),
            ]
        )
    finally:
        server.should_exit = True
        await serving
        await bridge.client.aclose()
        await database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=500)
    parser.add_argument("--payments", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="smaller run for make bench")
    args = parser.parse_args()
    links, payments = (150, 100) if args.quick else (args.links, min(args.payments, args.links))
    stack = find_stack()
    sandbox_port, webhook_port = free_port(), free_port()
    sandbox = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "settlement.sandbox",
            "--port",
            str(sandbox_port),
            "--webhook-url",
            f"http://127.0.0.1:{webhook_port}/webhooks/bridge",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_listening(sandbox_port)
        with service_database(stack, "settlement") as database:
            asyncio.run(
                run(database.url, f"http://127.0.0.1:{sandbox_port}", webhook_port, links, payments)
            )
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)


if __name__ == "__main__":
    main()
