"""An operator's Prometheus, the real one from Debian's package with the rules of k8s/monitoring,
scrapes every service while it serves requests and answers, per service, its request rate, its
outbox age and (for consumers) its consumer lag."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support import fixtures
from tests.support.fixtures import ServiceProcess
from tests.support.stack import ROOT, Stack, free_port, unique_name

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "scoring", "matching", "messaging", "vault", "settlement", "gateway")
CONSUMERS = ("scoring", "matching", "messaging", "vault", "settlement", "intake")
RULES = ROOT / "k8s" / "monitoring" / "prometheus-rules.yml"


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[[dict[str, int]], str]]:
    """Factory: start Prometheus scraping the given {job: metrics port} every second; its URL."""
    binary = shutil.which("prometheus")
    assert binary, "Prometheus is installed by `deploy/local/stack.sh install`"
    started: list[subprocess.Popen[bytes]] = []

    def start(targets: dict[str, int]) -> str:
        port = free_port()
        jobs = "".join(
            f"  - job_name: {job}\n    static_configs:\n      - targets: ['127.0.0.1:{p}']\n"
            for job, p in targets.items()
        )
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
            f"rule_files: ['{RULES}']\nscrape_configs:\n{jobs}"
        )
        log = (tmp_path / "prometheus.log").open("wb")
        started.append(
            subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={tmp_path / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=30)


async def query(client: httpx.AsyncClient, url: str, expr: str) -> dict[str, float]:
    """An instant query's answer per job (empty while Prometheus is not ready)."""
    try:
        reply = await client.get(f"{url}/api/v1/query", params={"query": expr})
    except httpx.TransportError:
        return {}
    if reply.status_code != 200:
        return {}
    return {
        r["metric"].get("job", ""): float(r["value"][1]) for r in reply.json()["data"]["result"]
    }


async def keep_calling(
    processes: list[ServiceProcess], http_port: int, stop: asyncio.Event
) -> None:
    """Health checks to every service (they go through the same interceptors as any call) and
    REST requests to the gateway, until stopped."""
    channels = [(p.channel(), p) for p in processes]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
        try:
            while not stop.is_set():
                for channel, _ in channels:
                    await health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(), timeout=5
                    )
                await http.get("/readyz")
                await asyncio.sleep(0.2)
        finally:
            for channel, _ in channels:
                await channel.close()


async def test_prometheus_answers_each_services_request_rate_outbox_age_and_lag(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    prometheus: Callable[[dict[str, int]], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prefix = unique_name("metrics") + "."
    ports = {service: free_port() for service in SERVICES}
    common: dict[str, Any] = {"metrics_sample_seconds": "1"}
    processes: dict[str, ServiceProcess] = {}
    for service in SERVICES[:-1]:
        extra: dict[str, str] = {}
        if service == "vault":
            extra = {
                "bucket": unique_name("vault").replace("_", "-"),
                "key_file": str(tmp_path / "keys.json"),
                "s3_endpoint": stack.s3_endpoint,
                "s3_access_key": stack.s3_access_key,
                "s3_secret_key": stack.s3_secret_key,
            }
        processes[service] = run_service(
            service,
            make_database(service),
            prefix,
            metrics_port=str(ports[service]),
            **common,
            **extra,
        )
    http_port = free_port()
    processes["gateway"] = run_service(
        "gateway",
        make_database("gateway"),
        prefix,
        metrics_port=str(ports["gateway"]),
        http_port=str(http_port),
        **{f"{s}_target": processes[s].target for s in SERVICES[:-1]},
        **common,
    )
    # All seven at once on a small shared machine: give each longer than the usual 180 s.
    monkeypatch.setattr(fixtures, "wait_serving", partial(fixtures.wait_serving, timeout=420))
    await asyncio.gather(*(asyncio.to_thread(p.start) for p in processes.values()))

    url = prometheus(ports)
    stop = asyncio.Event()
    calls = asyncio.create_task(keep_calling(list(processes.values()), http_port, stop))
    rate = "sum by (job) (rate(recouvra_grpc_server_handled_total[15s]))"
    answers: dict[str, dict[str, float]] = {}
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                answers = {
                    "grpc": await query(client, url, rate),
                    "http": await query(
                        client, url, "sum by (job) (rate(recouvra_http_requests_total[15s]))"
                    ),
                    "outbox": await query(client, url, "recouvra_outbox_oldest_unsent_age_seconds"),
                    "lag": await query(client, url, "count by (job) (recouvra_kafka_consumer_lag)"),
                }
                complete = (
                    all(answers["grpc"].get(s, 0) > 0 for s in SERVICES)
                    and answers["http"].get("gateway", 0) > 0
                    and set(SERVICES) <= set(answers["outbox"])
                    and set(CONSUMERS) <= set(answers["lag"])
                )
                if complete:
                    break
                await asyncio.sleep(1)
    finally:
        stop.set()
        await calls
    assert {s: answers["grpc"].get(s, 0) > 0 for s in SERVICES} == dict.fromkeys(SERVICES, True)
    assert answers["http"].get("gateway", 0) > 0
    assert set(SERVICES) <= set(answers["outbox"]), answers["outbox"]
    assert set(CONSUMERS) <= set(answers["lag"]), answers["lag"]
