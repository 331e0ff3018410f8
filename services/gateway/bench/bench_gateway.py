"""A storm of log-ins: the gateway's memory with password hashing bounded, and unbounded.

    python services/gateway/bench/bench_gateway.py [--log-ins N] [--concurrency C] [--quick]

Issue 13, point 4: argon2id costs 64 MiB per hash, and a gateway that hashes as many passwords
at once as requests arrive grows by that much per concurrent log-in. Two real gateways run as
processes on the local stack, each with its own fresh database, one creditor signed up in each:

1. bounded: the settings' default (`PASSWORD_HASH_MEMORY_MIB=128`: two hashes at once);
2. unbounded: 32 hashes at once, as asyncio's default thread pool allowed before.

Each gets N `POST /v1/auth/token` with random e-mails (every one a miss, each verified against
a decoy hash so it costs what a real one does) from C concurrent clients, and one log-in of the
real creditor at the end. Rate limits are raised for the run (they would refuse most of the
storm from one address: the unit tests show them). Printed: answers by status, log-ins per
second, p99, and each process's resident memory before the storm and at its peak (VmHWM from
/proc), then the ratio of the two peaks, against the pod's 512 MiB limit.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from tests.support.bench_table import Row, Target, report
from tests.support.databases import ServiceDatabase, discard, provision
from tests.support.fixtures import ServiceProcess
from tests.support.processes import service, wait_http
from tests.support.stack import find_stack, free_port, topics_deleted_after, unique_name

PASSWORD = "correct horse battery staple"
POD_LIMIT_MIB = 512
UNLIMITED = "1000000/minute"


def memory_mib(process: ServiceProcess, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of the process, in MiB."""
    assert process.process is not None
    for line in Path(f"/proc/{process.process.pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc status")


async def storm(
    url: str, log_ins: int, concurrency: int
) -> tuple[Counter[str], list[float], float]:
    """N log-ins with random e-mails from C clients: statuses, latencies, elapsed seconds."""
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(log_ins):
        queue.put_nowait(n)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while not queue.empty():
                queue.get_nowait()
                email = f"{uuid.uuid4().hex[:12]}@storm.example"
                started = time.perf_counter()
                try:
                    answer = await http.post(
                        "/v1/auth/token", json={"email": email, "password": "a wrong guess"}
                    )
                    statuses[str(answer.status_code)] += 1
                except httpx.TransportError as error:  # the gateway dropped or never answered
                    statuses[type(error).__name__] += 1
                latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses, latencies, time.perf_counter() - began


async def sign_up_owner(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        body = {"organisation_name": "Bench", "kind": "creditor", "email": "owner@bench.example"}
        signed = await http.post(
            "/v1/accounts", json=body | {"password": PASSWORD}, headers={"Idempotency-Key": "b"}
        )
        signed.raise_for_status()


async def log_in_owner(url: str) -> int:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        answer = await http.post(
            "/v1/auth/token", json={"email": "owner@bench.example", "password": PASSWORD}
        )
        return answer.status_code


def run_one(
    label: str, memory_mib_setting: str, args: argparse.Namespace, logs: Path
) -> tuple[float, float, float]:
    """Peak memory (MiB), log-ins per second and p99 (ms) of one storm."""
    stack = find_stack()
    created: list[ServiceDatabase] = []
    gateway: ServiceProcess | None = None
    try:
        created.append(database := provision(stack, "gateway"))
        port = free_port()
        gateway = service(
            stack,
            "gateway",
            database.url,
            unique_name("bench_gateway") + ".",
            logs,
            http_port=str(port),
            password_hash_memory_mib=memory_mib_setting,
            password_hash_waiting="10000",
            login_rate_per_address=UNLIMITED,
            login_rate_overall=UNLIMITED,
        )
        gateway.start()
        url = f"http://127.0.0.1:{port}"
        wait_http(url, gateway)
        asyncio.run(sign_up_owner(url))
        before = memory_mib(gateway, "VmRSS")
        statuses, latencies, elapsed = asyncio.run(storm(url, args.log_ins, args.concurrency))
        peak = memory_mib(gateway, "VmHWM")
        owner = asyncio.run(log_in_owner(url))
        p99 = statistics.quantiles(latencies, n=100)[98] * 1000
        print(
            f"{label}: {args.log_ins} log-ins with random e-mails at concurrency "
            f"{args.concurrency}: {dict(sorted(statuses.items()))}, "
            f"{args.log_ins / elapsed:.1f} log-ins/s, p99 {p99:.0f} ms; memory {before:.0f} MiB "
            f"before, peak {peak:.0f} MiB ({peak / POD_LIMIT_MIB:.0%} of the {POD_LIMIT_MIB} MiB "
            f"pod limit); the owner's log-in after the storm: {owner}"
        )
        return peak, args.log_ins / elapsed, p99
    except BaseException:
        if gateway is not None:
            print(f"--- gateway log\n{gateway.log_text()[-3000:]}", file=sys.stderr)
        raise
    finally:
        if gateway is not None and gateway.process is not None:
            try:
                gateway.stop()
            except subprocess.TimeoutExpired:
                gateway.kill()
        discard(stack, created)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log-ins", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--quick", action="store_true", help="smaller run for make bench")
    args = parser.parse_args()
    if args.quick:
        args.log_ins = min(args.log_ins, 300)
    with (
        topics_deleted_after(find_stack()),
        tempfile.TemporaryDirectory(prefix="bench_gateway_") as logs,
    ):
        bounded, rate, p99 = run_one("bounded (2 hashes at once)", "128", args, Path(logs))
        unbounded, _, _ = run_one("unbounded (32 hashes at once)", str(32 * 64), args, Path(logs))
    print(
        f"peak memory, bounded / unbounded: {bounded:.0f} / {unbounded:.0f} MiB = "
        f"{bounded / unbounded:.2f}"
    )
    storm = f"gateway log-in storm, concurrency {args.concurrency}"
    report(
        [
            Row(f"{storm}: log-ins", rate, "log-ins/s"),
            Row(f"{storm}: p99", p99, "ms", higher_is_better=False),
            Row(
                f"{storm}: peak memory",
                bounded,
                "MiB",
                baseline=unbounded,
                baseline_label="unbounded hashing",
                target=Target("figure", "<=", POD_LIMIT_MIB),
                higher_is_better=False,
                note="target: the pod's memory limit",
            ),
        ]
    )


if __name__ == "__main__":
    main()
