"""The whole pipeline: a case submitted over REST until matching has assigned it to a provider.

    python tests/bench/bench_pipeline.py [--cases N] [--rate R] [--providers P] [--burst B]
        [--submitters S] [--quick] [--profile DIR]

Intake, scoring, matching (bidding periods of 0: awarded the moment the auto-bids are in) and
the gateway run as processes on fresh databases of the local stack, under one topic prefix.
P providers (50) are registered and approved over matching's gRPC API, as an operator does
through the gateway, each with a standing auto-bid rule. One creditor signs up over REST and
sets its quote policy so that every quote is auto-accepted (`auto_accept_below` at its maximum
fee). The bench then submits N cases through `POST /v1/cases` on a fixed schedule of R a
second (open loop) and follows each one on Kafka:

    submitted (REST 201) -> scoring.case-scored -> matching.quote-issued (auto-accepted)
      -> matching.case-offered -> the provider accepts -> matching.case-assigned

Nothing in the platform accepts an offer for a provider (the creditor's auto-accept ends at
`case-offered`; the provider must answer `AcceptAssignment`), so the bench acts as every
provider: it calls `AcceptAssignment` over gRPC, as that provider, the moment it reads
`case-offered`. Its latencies run from each submission's scheduled start to the moment the
bench reads `case-assigned`. Then the capacity run: B more cases (1,000; 400 with --quick)
submitted S at a time (8, closed loop: each submitter sends its next case when the last was
answered), and the bench waits until every one is assigned. The pipeline's cases/s is B over
the time from the first of those submissions to the last assignment, and the CPU per case is
measured over that run; the p99 target is judged in the timed run at R a second.

Raw baseline, same run: the same number of Kafka hops as a case crosses on its way
(case-submitted, case-scored, case-offered, case-assigned: four topics), as a chain of plain
aiokafka clients in this process: a producer writes N envelopes to topic 1; three forwarders
each read topic k, produce each record to topic k+1 (idempotent, acks=all) and commit their
offsets once it is acknowledged; a consumer reads topic 4. Its rate is N over the time from the
first send to the last record read (everything offered at once); its latency is measured at the
pipeline's own offered rate. Prints cases/s at R and at capacity, p50/p99 submission ->
assigned (and the time to each step), CPU per case per service and their PostgreSQL backends,
the load average.
`--profile DIR` samples each service with py-spy during the submissions (raw files in DIR).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.matching_events_pb2 import CaseOffered
from recouvra.matching.v1 import bidding_pb2 as pb
from recouvra.matching.v1 import bidding_pb2_grpc as pb_grpc
from recouvra_shared.events import new_event, unpack
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.auto_bidders import register_auto_bidders
from tests.support.bench_table import Row, Target, report
from tests.support.databases import ServiceDatabase, discard, plain, provision
from tests.support.fixtures import ServiceProcess
from tests.support.identity import as_person
from tests.support.marketplace import sign_up_creditor
from tests.support.pki import platform_pki
from tests.support.processes import service, wait_http
from tests.support.stack import (
    ISSUED_NAMES,
    delete_topics_of,
    find_stack,
    free_port,
    revoke_provisioned,
    unique_name,
)

SERVICES = ("intake", "scoring", "matching", "gateway")
SIRENS = ["552032534", "552100554", "732829320", "542051180", "775670417"]
# The most an auto-bid rule below bids (20.9 %): every quote is at or under it, auto-accepted.
CREDITOR_FEE_PERCENT = "25"
P99_TARGET_MS = 2000.0  # issue 17: submission -> assigned
# The topics a case crosses between two processes on its critical path.
HOPS = ("case-submitted", "case-scored", "case-offered", "case-assigned")
STEPS = ("scored", "quoted", "offered", "assigned")
STEP_TOPICS = {
    "scoring.case-scored.v1": "scored",
    "matching.quote-issued.v1": "quoted",
    "matching.case-offered.v1": "offered",
    "matching.case-assigned.v1": "assigned",
}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def case_body(i: int, label: str) -> dict[str, object]:
    """A company debtor and one unpaid invoice, amounts from 500 to 9,500 EUR."""
    due = datetime.now(UTC).date() - timedelta(days=5 + i % 300)
    minor = 50_000 + (i * 7919) % 900_000
    return {
        "debtor": {
            "kind": "company",
            "name": f"Debiteur {i % 997} SAS",
            "siren_or_siret": SIRENS[i % len(SIRENS)],
            "address": {"lines": ["3 rue des Artisans"], "postal_code": "69003", "city": "Lyon"},
        },
        "invoices": [
            {
                "invoice_number": f"{label}-{i:06d}",
                "issue_date": (due - timedelta(days=30)).isoformat(),
                "due_date": due.isoformat(),
                "amount_due": {"amount": f"{minor // 100}.{minor % 100:02d}", "currency": "EUR"},
            }
        ],
    }


# --- the raw baseline ----------------------------------------------------------------------------


def raw_envelope(i: int) -> bytes:
    """An envelope of the size a case-submitted event has."""
    case_id = str(uuid.uuid4())
    return new_event(
        producer="bench",
        event_type="case-submitted",
        version=1,
        case_id=case_id,
        tenant_id="creditor-1",
        payload=CaseSubmitted(
            case_id=case_id,
            creditor_id="creditor-1",
            debtor_is_business=True,
            amount=Money(currency="EUR", minor_units=50_000 + i),
            due_date="2026-08-01",
        ),
    ).envelope.SerializeToString()


async def raw_chain(
    kafka: KafkaConnection, messages: int, rate: float | None, partitions: int
) -> tuple[float, list[float]]:
    """N records through len(HOPS) topics (see the module's doc): records/s from the first send
    to the last record read, and each record's latency (s) from its scheduled send (`rate`
    records/s; None: all at once) to its reading at the end of the chain."""
    name = unique_name("bench_raw")
    topics = [f"{name}.{hop}" for hop in HOPS]
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    await admin.create_topics([NewTopic(t, partitions, 1) for t in topics])
    await admin.close()
    options = kafka.client_options()

    def producer() -> AIOKafkaProducer:
        return AIOKafkaProducer(**options, enable_idempotence=True, acks="all", linger_ms=1)

    def consumer(topic: str) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            topic,
            **options,
            group_id=f"{topic}.group",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )

    clients: list[AIOKafkaProducer | AIOKafkaConsumer] = []
    forwarders = [(consumer(src), producer(), dst) for src, dst in itertools.pairwise(topics)]
    source, sink = producer(), consumer(topics[-1])
    for reader, writer, _ in forwarders:
        clients += [reader, writer]
    clients += [source, sink]
    await asyncio.gather(*(c.start() for c in clients))

    async def forward(reader: AIOKafkaConsumer, writer: AIOKafkaProducer, topic: str) -> None:
        while True:
            batch = await reader.getmany(timeout_ms=200)
            sends = [
                await writer.send(topic, record.value, key=record.key)
                for records in batch.values()
                for record in records
            ]
            if sends:
                await asyncio.gather(*sends)
                await reader.commit()

    due: dict[bytes, float] = {}
    read_at: dict[bytes, float] = {}
    tasks = [asyncio.create_task(forward(*f)) for f in forwarders]
    try:
        await asyncio.sleep(1)  # the forwarders' partitions assigned before the first send
        started = time.perf_counter()
        sends = []
        for i in range(messages):
            key = str(i).encode()
            at = started + (i / rate if rate else 0.0)
            if rate:
                await asyncio.sleep(max(0.0, at - time.perf_counter()))
            due[key] = at
            sends.append(await source.send(topics[0], raw_envelope(i), key=key))
        await asyncio.gather(*sends)
        deadline = time.perf_counter() + 120
        while len(read_at) < messages and time.perf_counter() < deadline:
            batch = await sink.getmany(timeout_ms=200)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    read_at.setdefault(record.key or b"", now)
        if len(read_at) < messages:
            raise RuntimeError(f"raw chain: {len(read_at)} of {messages} records came through")
        elapsed = max(read_at.values()) - started
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        await delete_topics_of(kafka, [name])
    return messages / elapsed, [read_at[k] - due[k] for k in due]


# --- the platform --------------------------------------------------------------------------------


async def creditor(client: httpx.AsyncClient) -> dict[str, str]:
    """A creditor company signed up and logged in, whose every quote is auto-accepted."""
    auth = await sign_up_creditor(client)
    policy = await client.post(
        "/v1/quote-policy",
        json={
            "max_fee_percent": CREDITOR_FEE_PERCENT,
            "auto_accept_below_percent": CREDITOR_FEE_PERCENT,
        },
        headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
    )
    if policy.status_code != 200:
        raise RuntimeError(f"quote policy refused: {policy.status_code} {policy.text}")
    return auth


class CpuMeter:
    """CPU seconds (user + system, all threads) some processes spent since `start`."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.at_start = {pid: self._cpu(pid) for group in pids.values() for pid in group}

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)

    def spent(self) -> dict[str, float]:
        return {
            name: sum(max(0.0, self._cpu(p) - self.at_start.get(p, 0.0)) for p in group)
            for name, group in self.pids.items()
        }


async def backends(urls: dict[str, str]) -> dict[str, list[int]]:
    """The PostgreSQL backends serving each service's database, read as the service's own role
    (pg_stat_activity names every session's database and pid to any role)."""
    found: dict[str, list[int]] = {}
    for name, url in urls.items():
        pg = await asyncpg.connect(plain(url))
        try:
            rows = await pg.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await pg.close()
        found[f"{name} PG"] = [row["pid"] for row in rows]
    return found


async def follow(
    kafka: KafkaConnection,
    prefix: str,
    seen: dict[str, dict[str, float]],
    on_offered: Callable[[CaseOffered], Coroutine[Any, Any, None]],
    stop: asyncio.Event,
    progress: asyncio.Event,
) -> None:
    """Read the four steps' topics; note when each case reached each; answer each offer."""
    consumer = AIOKafkaConsumer(
        *(prefix + topic for topic in STEP_TOPICS),
        **kafka.client_options(),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    await consumer.start()
    answering: set[asyncio.Task[None]] = set()
    try:
        while not stop.is_set():
            batch = await consumer.getmany(timeout_ms=100)
            now = time.perf_counter()
            for partition, records in batch.items():
                step = STEP_TOPICS[partition.topic.removeprefix(prefix)]
                for record in records:
                    envelope = EventEnvelope()
                    envelope.ParseFromString(record.value)
                    seen[step].setdefault(envelope.case_id, now)
                    progress.set()
                    if step == "offered":
                        task = asyncio.create_task(on_offered(unpack(envelope, CaseOffered)))
                        answering.add(task)
                        task.add_done_callback(answering.discard)
    finally:
        await asyncio.gather(*answering, return_exceptions=True)
        await consumer.stop()


async def pipeline(
    args: argparse.Namespace,
    url: str,
    matching_target: str,
    prefix: str,
    kafka: KafkaConnection,
    meter: Callable[[], Awaitable[CpuMeter]],
    profile: Callable[[], list[subprocess.Popen[bytes]]],
) -> dict[str, object]:
    seen: dict[str, dict[str, float]] = {step: {} for step in STEPS}
    due: dict[str, float] = {}
    answered: dict[str, float] = {}
    refused: list[str] = []
    async with (
        httpx.AsyncClient(
            base_url=url, timeout=60, limits=httpx.Limits(max_connections=512)
        ) as http,
        platform_pki().channel(matching_target, "matching") as channel,
    ):
        auth = await creditor(http)
        bidding = pb_grpc.BiddingServiceStub(channel)

        async def accept(offer: CaseOffered) -> None:
            """The provider takes the case the moment it is offered (the bench acts for it)."""
            try:
                await bidding.AcceptAssignment(
                    pb.CaseRef(case_id=offer.case_id),
                    metadata=as_person("matching", "provider", offer.provider_id),
                )
                answered[offer.case_id] = time.perf_counter()
            except Exception as exc:  # counted and shown, the run goes on
                refused.append(f"{offer.case_id}: {exc!r}")

        stop, progress = asyncio.Event(), asyncio.Event()
        follower = asyncio.create_task(follow(kafka, prefix, seen, accept, stop, progress))

        async def submit(
            i: int, at: float, label: str, timed: dict[str, float] | None = None
        ) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            answer = await http.post(
                "/v1/cases",
                json=case_body(i, label),
                headers=auth | {"Idempotency-Key": str(uuid.uuid4())},
            )
            if answer.status_code != 201:
                raise RuntimeError(f"submission refused: {answer.status_code} {answer.text}")
            if timed is not None:
                timed[answer.json()["case_id"]] = at

        async def all_assigned(cases: dict[str, float]) -> None:
            deadline = time.perf_counter() + args.wait
            while not set(cases) <= set(seen["assigned"]) and time.perf_counter() < deadline:
                progress.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        progress.wait(), max(0.0, deadline - time.perf_counter())
                    )

        # A few cases first, through the whole path: every process warm, every partition assigned.
        now = time.perf_counter()
        await asyncio.gather(*(submit(i, now, "WARM") for i in range(5)))
        while len(seen["assigned"]) < 5:
            progress.clear()
            try:
                await asyncio.wait_for(progress.wait(), max(0.0, now + 120 - time.perf_counter()))
            except TimeoutError:
                raise RuntimeError(
                    f"warm-up: {len(seen['assigned'])} of 5 cases assigned"
                ) from None
        warm = set(seen["assigned"])

        # What the processes burn with nothing to do (polling loops): per second, over 5 s.
        idle = await meter()
        await asyncio.sleep(5)
        idle_per_second = {name: seconds / 5 for name, seconds in idle.spent().items()}
        cpu = await meter()
        profilers = profile()
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(submit(i, started + i / args.rate, "PIPE", due) for i in range(args.cases)),
            return_exceptions=True,
        )
        sent_for = time.perf_counter() - started
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        await all_assigned(due)
        spent = cpu.spent()
        busy_for = time.perf_counter() - started
        for profiler in profilers:
            profiler.send_signal(2)  # SIGINT: py-spy writes what it sampled
        for profiler in profilers:
            profiler.wait(timeout=60)

        # Capacity: as many cases as the pipeline takes, `--submitters` submissions in flight
        # at a time (closed loop), until every one is assigned.
        burst: dict[str, float] = {}
        numbers = iter(range(args.cases, args.cases + args.burst))
        burst_cpu = await meter()
        burst_started = time.perf_counter()

        async def submitter() -> None:
            for i in numbers:
                await submit(i, time.perf_counter(), "BURST", burst)

        burst_outcomes = await asyncio.gather(
            *(submitter() for _ in range(args.submitters)), return_exceptions=True
        )
        failed += [o for o in burst_outcomes if isinstance(o, BaseException)]
        await all_assigned(burst)
        burst_spent = burst_cpu.spent()
        stop.set()
        await follower
    assigned = {c: t for c, t in seen["assigned"].items() if c in due and c not in warm}
    latencies = [(assigned[c] - due[c]) * 1000 for c in assigned]
    last = max(assigned.values(), default=started)
    burst_assigned = {c: t for c, t in seen["assigned"].items() if c in burst}
    burst_last = max(burst_assigned.values(), default=burst_started)
    burst_latencies = [(burst_assigned[c] - burst[c]) * 1000 for c in burst_assigned]
    return {
        "burst": {
            "submitted": len(burst),
            "assigned": len(burst_assigned),
            "rate": len(burst_assigned) / max(burst_last - burst_started, 1e-9),
            "latencies": burst_latencies,
            "cpu": burst_spent,
        },
        "offered": args.rate,
        "sent_for": sent_for,
        "busy_for": busy_for,
        "idle": idle_per_second,
        "submitted": len(due),
        "failed": failed,
        "refused": refused,
        "assigned": len(assigned),
        "sustained": len(assigned) / max(last - started, 1e-9),
        "latencies": latencies,
        "steps": {
            step: [(seen[step][c] - due[c]) * 1000 for c in due if c in seen[step]]
            for step in STEPS
        },
        "answered": [(answered[c] - due[c]) * 1000 for c in due if c in answered],
        "cpu": spent,
    }


def print_and_report(
    args: argparse.Namespace, result: dict[str, object], raw: dict[str, Any]
) -> None:
    offered = float(result["offered"])  # type: ignore[arg-type]
    latencies: list[float] = result["latencies"]  # type: ignore[assignment]
    steps: dict[str, list[float]] = result["steps"]  # type: ignore[assignment]
    cpu: dict[str, float] = result["cpu"]  # type: ignore[assignment]
    failed: list[BaseException] = result["failed"]  # type: ignore[assignment]
    refused: list[str] = result["refused"]  # type: ignore[assignment]
    sustained = float(result["sustained"])  # type: ignore[arg-type]
    assigned = int(result["assigned"])  # type: ignore[call-overload]
    load = os.getloadavg()[1]
    print(
        f"pipeline: {args.cases} cases offered at {offered:.1f}/s through POST /v1/cases, "
        f"{args.providers} auto-bidding providers, every quote auto-accepted, each offer "
        f"accepted by the bench as its provider"
    )
    print(
        f"  assigned {assigned}/{result['submitted']} submitted ({len(failed)} submissions "
        f"failed, {len(refused)} accepts refused), {sustained:.1f} cases/s sustained"
    )
    if failed:
        print(f"  first failed submission: {failed[0]!r}")
    if refused:
        print(f"  first refused accept: {refused[0]}")
    for step in STEPS:
        values = steps[step]
        print(
            f"  submission -> {step:<8}: p50 {percentile(values, 50):7.0f} ms, "
            f"p99 {percentile(values, 99):7.0f} ms ({len(values)} cases)"
        )
    unassigned = int(result["submitted"]) - assigned  # type: ignore[call-overload]
    p99 = percentile(latencies, 99) if not unassigned and not failed else float("inf")
    per_case = {name: 1000 * seconds / max(assigned, 1) for name, seconds in cpu.items()}
    idle: dict[str, float] = result["idle"]  # type: ignore[assignment]
    busy_for = float(result["busy_for"])  # type: ignore[arg-type]
    beyond_idle = {
        name: 1000 * max(0.0, seconds - idle.get(name, 0.0) * busy_for) / max(assigned, 1)
        for name, seconds in cpu.items()
    }
    print(
        "  CPU per case: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in per_case.items())
        + f"; total {sum(per_case.values()):.1f} ms (load average {load:.1f})"
    )
    print(
        "  of which idle (CPU with nothing to do, ms per s, measured before): "
        + ", ".join(f"{name} {1000 * idle.get(name, 0.0):.1f}" for name in cpu)
        + f"; per case beyond idle, over the {busy_for:.0f} s: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in beyond_idle.items())
    )
    print(
        f"raw Kafka, {len(HOPS)} hops (producer, 3 forwarders, consumer; one process): "
        f"{raw['rate']:.0f} records/s; at {offered:.1f}/s offered: "
        f"p50 {percentile(raw['latencies'], 50):.0f} ms, "
        f"p99 {percentile(raw['latencies'], 99):.0f} ms"
    )
    burst: dict[str, Any] = result["burst"]  # type: ignore[assignment]
    burst_per_case = {
        name: 1000 * seconds / max(burst["assigned"], 1) for name, seconds in burst["cpu"].items()
    }
    print(
        f"capacity: {burst['submitted']} cases submitted {args.submitters} at a time (closed "
        f"loop): assigned {burst['assigned']}, {burst['rate']:.1f} cases/s from the first "
        f"submission to the last assignment; submission -> assigned p50 "
        f"{percentile(burst['latencies'], 50):.0f} ms, p99 "
        f"{percentile(burst['latencies'], 99):.0f} ms"
    )
    print(
        "  CPU per case: "
        + ", ".join(f"{name} {ms:.1f} ms" for name, ms in burst_per_case.items())
        + f"; total {sum(burst_per_case.values()):.1f} ms"
    )
    print(f"pipeline at capacity / raw Kafka: {burst['rate'] / raw['rate']:.4f}")
    path = f"whole pipeline REST -> case-assigned, {args.providers} auto-bidding providers"
    services_ms = sum(ms for name, ms in burst_per_case.items() if name in SERVICES)
    burst_whole = burst["assigned"] == burst["submitted"] == args.burst
    report(
        [
            Row(
                f"{path}: cases/s",
                burst["rate"] if burst_whole else 0.0,
                "cases/s",
                baseline=raw["rate"],
                baseline_label=f"raw Kafka through {len(HOPS)} hops",
                note=f"{args.burst} cases, {args.submitters} submissions in flight (closed "
                f"loop), first submission to last assignment; assigned "
                f"{burst['assigned']}/{args.burst}; the issue sets no bar on this ratio",
            ),
            Row(
                f"{path} at {offered:.0f}/s offered: p99",
                p99,
                "ms",
                baseline=percentile(raw["latencies"], 99),
                baseline_label=f"raw Kafka through {len(HOPS)} hops, same rate",
                higher_is_better=False,
                target=Target("figure", "<=", P99_TARGET_MS),
                note="" if p99 != float("inf") else "some cases never assigned: p99 infinite",
            ),
            Row(
                f"{path}: CPU per case, four services",
                services_ms,
                "ms",
                higher_is_better=False,
                note="at capacity: "
                + ", ".join(f"{name} {ms:.1f}" for name, ms in burst_per_case.items())
                + f"; one free core at this cost: {1000 / max(services_ms, 1e-9):.0f} cases/s",
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--rate", type=float, default=2.0, help="cases submitted per second")
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--partitions", type=int, default=3, help="partitions of each topic")
    parser.add_argument("--wait", type=float, default=120, help="seconds to wait for the last")
    parser.add_argument("--profile", type=Path, help="py-spy each service into this folder")
    parser.add_argument(
        "--relay-idle-seconds",
        help="each service's outbox relay poll when idle (default: the services' setting)",
    )
    parser.add_argument(
        "--burst", type=int, default=1000, help="cases of the capacity run after the timed one"
    )
    parser.add_argument(
        "--submitters", type=int, default=8, help="submissions in flight in the capacity run"
    )
    parser.add_argument(
        "--quick", action="store_true", help="make bench: 100 cases, then 400 for capacity"
    )
    args = parser.parse_args()
    if args.quick:
        args.cases = min(args.cases, 100)
        args.burst = min(args.burst, 400)
    stack = find_stack()
    prefix = unique_name("bench_pipeline") + "."
    created: list[ServiceDatabase] = []
    started: list[ServiceProcess] = []
    with tempfile.TemporaryDirectory(prefix="bench_pipeline_") as logs:
        try:
            databases = {name: provision(stack, name) for name in SERVICES}
            created.extend(databases.values())
            partitions = str(args.partitions)
            intake = service(stack, "intake", databases["intake"].url, prefix, Path(logs))
            scoring = service(
                stack,
                "scoring",
                databases["scoring"].url,
                prefix,
                Path(logs),
                intake_target=intake.target,
            )
            matching = service(
                stack,
                "matching",
                databases["matching"].url,
                prefix,
                Path(logs),
                bidding_minutes="0",
            )
            port = free_port()
            gateway = service(
                stack,
                "gateway",
                databases["gateway"].url,
                prefix,
                Path(logs),
                http_port=str(port),
                intake_target=intake.target,
                matching_target=matching.target,
            )
            processes = {"intake": intake, "scoring": scoring, "matching": matching}
            processes["gateway"] = gateway
            for name, process in processes.items():
                process.env["RECOUVRA_KAFKA_PARTITIONS"] = partitions
                if args.relay_idle_seconds:
                    relay = f"RECOUVRA_{name.upper()}_RELAY_IDLE_POLL_SECONDS"
                    process.env[relay] = args.relay_idle_seconds
                started.append(process)
                process.start()
            url = f"http://127.0.0.1:{port}"
            wait_http(url, gateway)
            asyncio.run(register_auto_bidders(matching.target, args.providers))
            pids = {name: [p.process.pid] for name, p in processes.items() if p.process}

            async def meter() -> CpuMeter:
                urls = {name: databases[name].url for name in SERVICES}
                # The bench itself (REST client, Kafka reader, the providers' accepts) too:
                # it takes its share of the same cores.
                return CpuMeter(pids | await backends(urls) | {"bench": [os.getpid()]})

            def profile() -> list[subprocess.Popen[bytes]]:
                if not args.profile:
                    return []
                args.profile.mkdir(parents=True, exist_ok=True)
                spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or "py-spy"
                return [
                    subprocess.Popen(
                        [
                            spy,
                            "record",
                            "-f",
                            "raw",
                            "-r",
                            "100",
                            "--nonblocking",
                            "-o",
                            str(args.profile / f"{name}.txt"),
                            "--pid",
                            str(group[0]),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                    for name, group in pids.items()
                ]

            admin = stack.kafka_admin()
            result = asyncio.run(
                pipeline(args, url, matching.target, prefix, admin, meter, profile)
            )
            offered = float(result["offered"])  # type: ignore[arg-type]
            # The raw chain, right after, twice: all at once (its rate), then at the pipeline's
            # offered rate (its latency); best rate of two rounds.
            rates = []
            for _ in range(2):
                rate, _latencies = asyncio.run(
                    raw_chain(admin, max(args.cases, 2000), None, args.partitions)
                )
                rates.append(rate)
            _, latencies = asyncio.run(raw_chain(admin, args.cases, offered, args.partitions))
            print_and_report(args, result, {"rate": max(rates), "latencies": latencies})
        except BaseException:
            for process in started:
                print(f"--- {process.service} log\n{process.log_text()[-3000:]}", file=sys.stderr)
            raise
        finally:
            for process in reversed(started):
                if process.process is None:
                    continue
                try:
                    process.stop()
                except subprocess.TimeoutExpired:
                    process.kill()
            discard(stack, created)
            with contextlib.suppress(Exception):
                asyncio.run(delete_topics_of(stack.kafka_admin(), [*ISSUED_NAMES, prefix]))
            with contextlib.suppress(Exception):
                asyncio.run(revoke_provisioned(stack))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
