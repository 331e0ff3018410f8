"""Matching latency: time from `case-scored` to `quote-issued` with 50 auto-bidding providers.

    python services/matching/bench/bench_matching.py [--cases N] [--rate R] [--providers P]
        [--bidding-seconds S] [--processes K] [--partitions Q] [--scaling] [--quick]

Runs K `python -m matching` processes (one consumer group) on a fresh database of the local
stack, its topics made with Q partitions, registers P providers each holding an auto-bid rule,
then publishes `intake.case-submitted` and `scoring.case-scored` for N cases at R cases/s to
real Kafka. It reports, per case, the time from publishing `case-scored` to reading
`matching.quote-issued` back from Kafka (p50/p99), the rate at which quotes came out (cases
quoted over the time from the first quote read to the last: below R, matching fell behind;
offered more than it can do, what it sustains), and the largest number of auctions open at once.
With --bidding-seconds 0 auctions are awarded the moment auto-bids are in; otherwise they close
by the durable timer after that many seconds. `--quick` (make bench) offers the issue's target
rate, 200 cases/s, to one process (2,000 cases: the p99 is judged there), then 300 cases/s to
one process (3,000 cases: the quotes a second it sustains, first quote to last, are judged
there), then 200 cases/s to two processes of one group on 6 partitions (1,000 cases), to show
how it scales; `--scaling` runs 1 process on Q partitions, 1 on 2Q and 2 on 2Q, each on a fresh
database and topics, with the same cases.

To measure older code against the same harness, put its source first on the path of the
processes: `PYTHONPATH=/elsewhere/services/matching/src python .../bench_matching.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from recouvra.common.v1.money_pb2 import Money
from recouvra.events.v1.case_events_pb2 import CaseSubmitted
from recouvra.events.v1.envelope_pb2 import EventEnvelope
from recouvra.events.v1.scoring_events_pb2 import CaseScored
from recouvra_shared.events import new_event
from recouvra_shared.kafka_access import load_catalogue, revoke
from recouvra_shared.kafka_access import provision as provision_topics
from recouvra_shared.kafka_security import KafkaConnection
from tests.support.auto_bidders import SEGMENTS, register_auto_bidders
from tests.support.bench_table import Row, Target, report
from tests.support.databases import discard, provision
from tests.support.fixtures import wait_serving
from tests.support.identity import identity_keys
from tests.support.pki import platform_pki
from tests.support.stack import (
    KAFKA_CATALOGUE,
    delete_topics_of,
    find_stack,
    free_port,
    unique_name,
)

TARGET_RATE = 200.0  # scored cases/s one matching process must sustain (issue 17)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class CpuMeter:
    """CPU seconds (user + system) spent by some processes since `start`: the matching
    processes, and the PostgreSQL backends serving the bench's database. On a shared machine
    where other work takes the cores, a process's CPU time per case says what it costs, where
    a rate says how much of the machine it got."""

    def __init__(self) -> None:
        self.at_start: dict[int, float] = {}

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            return None
        return float(times.user + times.system)

    def start(self, pids: list[int]) -> None:
        for pid in pids:
            cpu = self._cpu(pid)
            if cpu is not None:
                self.at_start[pid] = cpu

    def spent(self, pids: list[int]) -> float:
        """CPU seconds since start; a process started since counts from its beginning."""
        total = 0.0
        for pid in pids:
            cpu = self._cpu(pid)
            if cpu is not None:
                total += cpu - self.at_start.get(pid, 0.0)
        return total


async def backends(db_url: str) -> list[int]:
    """The PostgreSQL backends connected to the bench's database, but the bench's own."""
    pg = await asyncpg.connect(db_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await pg.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name NOT LIKE 'bench%' AND pid <> pg_backend_pid()"
        )
    finally:
        await pg.close()
    return [r["pid"] for r in rows]


async def run(
    args: argparse.Namespace,
    db_url: str,
    prefix: str,
    kafka: KafkaConnection,
    matching_pids: list[int],
) -> None:
    """`kafka` is the harness's (admin) connection: it stands in for intake and scoring."""
    scored_at: dict[str, float] = {}
    quoted_at: dict[str, float] = {}
    consumer = AIOKafkaConsumer(
        f"{prefix}matching.quote-issued.v1",
        **kafka.client_options(),
        group_id=None,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    producer = AIOKafkaProducer(**kafka.client_options(), enable_idempotence=True, acks="all")
    await consumer.start()
    await producer.start()
    pg = await asyncpg.connect(
        db_url.replace("postgresql+asyncpg", "postgresql"),
        server_settings={"application_name": "bench-sampler"},
    )
    max_open = 0
    done = asyncio.Event()
    first_quote = last_quote = 0.0

    async def read_quotes() -> None:
        nonlocal first_quote, last_quote
        while len(quoted_at) < args.cases:
            batch = await consumer.getmany(timeout_ms=500)
            now = time.perf_counter()
            for records in batch.values():
                for record in records:
                    envelope = EventEnvelope()
                    envelope.ParseFromString(record.value)
                    quoted_at.setdefault(envelope.case_id, now)
                    first_quote = first_quote or now
                    last_quote = now
        done.set()

    async def sample_open() -> None:
        nonlocal max_open
        while not done.is_set():
            count = await pg.fetchval("SELECT count(*) FROM case_matchings WHERE status='bidding'")
            max_open = max(max_open, count)
            await asyncio.sleep(0.1)

    async def published(case_id: str, deliveries: list[asyncio.Future[object]]) -> None:
        """A case counts as scored once Kafka has both its facts: its latency starts there."""
        await asyncio.gather(*deliveries)
        scored_at[case_id] = time.perf_counter()

    acknowledged: list[asyncio.Task[None]] = []
    reader = asyncio.create_task(read_quotes())
    sampler = asyncio.create_task(sample_open())
    matching_cpu, database_cpu = CpuMeter(), CpuMeter()
    matching_cpu.start(matching_pids)
    database_cpu.start(await backends(db_url))
    started = time.perf_counter()
    for i in range(args.cases):
        case_id = str(uuid.uuid4())
        creditor = f"bench-creditor-{i % 5}"
        submitted = new_event(
            producer="intake",
            event_type="case-submitted",
            version=1,
            case_id=case_id,
            tenant_id=creditor,
            payload=CaseSubmitted(
                case_id=case_id,
                creditor_id=creditor,
                debtor_is_business=i % 4 != 0,
                amount=Money(currency="EUR", minor_units=50_000 + 1_337 * i),
                due_date="2026-08-01",
            ),
        )
        scored = new_event(
            producer="scoring",
            event_type="case-scored",
            version=1,
            case_id=case_id,
            tenant_id=creditor,
            payload=CaseScored(
                case_id=case_id,
                trustscore=20 + i % 80,
                recovery_probability=f"0.{30 + i % 60}",
                segment=SEGMENTS[i % len(SEGMENTS)],
                strategy="amicable",
            ),
        )
        # Both facts leave at once and the next case is not held up by their acknowledgements:
        # waiting for each in turn kept the harness itself under 200 cases/s on a slow minute.
        deliveries = [
            await producer.send(
                prefix + event.topic, event.envelope.SerializeToString(), key=case_id.encode()
            )
            for event in (submitted, scored)
        ]
        acknowledged.append(asyncio.create_task(published(case_id, deliveries)))
        target = started + (i + 1) / args.rate
        await asyncio.sleep(max(0.0, target - time.perf_counter()))
    await asyncio.gather(*acknowledged)
    sent_for = time.perf_counter() - started
    try:
        # Fell behind: what was quoted is reported, the rest counted at the end of the wait.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(reader, timeout=args.bidding_seconds + 120)
        drained = time.perf_counter()
        cpu_matching = matching_cpu.spent(matching_pids)
        cpu_database = database_cpu.spent(await backends(db_url))
    finally:
        done.set()
        await sampler
        await consumer.stop()
        await producer.stop()
        await pg.close()
    # A case still unquoted when the bench stopped waiting counts as quoted then (a lower bound).
    latencies = [(quoted_at.get(c, drained) - scored_at[c]) * 1000 for c in scored_at]
    unquoted = args.cases - len(quoted_at)
    offered = args.cases / sent_for
    # Sustained: the quotes over the time they came out, first to last. Offered more than it
    # can do, a process shows what it sustains; offered less, this is about the offered rate.
    quote_rate = (len(quoted_at) - 1) / max(last_quote - first_quote, 1e-9)
    shape = f"{args.processes} process(es), {args.partitions} partitions"
    print(
        f"matching: {args.providers} providers with auto-bid rules, {args.cases} cases scored "
        f"at {offered:.1f}/s, bidding period {args.bidding_seconds:g} s, {shape}"
    )
    print(
        f"  case-scored -> quote-issued: p50 {percentile(latencies, 50):.0f} ms, "
        f"p99 {percentile(latencies, 99):.0f} ms, mean {statistics.mean(latencies):.0f} ms "
        f"({len(quoted_at)}/{args.cases} quoted, {quote_rate:.1f} quotes/s"
        f"{f'; {unquoted} not, counted at the end of the wait' if unquoted else ''})"
    )
    print(f"  auctions open at once: at most {max_open}")
    per_case = 1000 * cpu_matching / args.cases
    print(
        f"  CPU per case: matching {per_case:.1f} ms, its PostgreSQL backends "
        f"{1000 * cpu_database / args.cases:.1f} ms (load average {os.getloadavg()[1]:.1f})"
    )
    quoted = f"matching case-scored -> quote-issued, {args.providers} providers"
    if args.processes > 1:  # the target is one process's; more are shown, not judged
        quoted += f", {args.processes} processes on {args.partitions} partitions"
    judged = args.bidding_seconds == 0 and args.processes == 1
    # The p99 is judged at the target's rate; what one process sustains, offered more than it.
    at_target = judged and abs(offered - TARGET_RATE) <= TARGET_RATE * 0.05
    beyond = judged and offered >= TARGET_RATE * 1.25
    if beyond:
        quoted += f", {args.rate:.0f} cases/s offered"
    report(
        [
            Row(
                f"{quoted}: p99",
                percentile(latencies, 99),
                "ms",
                higher_is_better=False,
                target=Target("figure", "<=", 500) if at_target else None,
                note="" if at_target else f"at {offered:.0f} cases/s; the target is at 200/s",
            ),
            Row(
                f"{quoted}: quotes/s",
                quote_rate,
                "cases/s",
                target=Target("figure", ">=", TARGET_RATE) if beyond else None,
                note=f"{shape}, {offered:.0f} cases/s offered; quoted "
                f"{len(quoted_at)}/{args.cases}, first quote to last"
                + ("" if beyond else "; judged in the run offered more than the target"),
            ),
            Row(
                f"{quoted}: matching CPU per case",
                per_case,
                "ms",
                higher_is_better=False,
                note=f"PostgreSQL backends {1000 * cpu_database / args.cases:.1f} ms more; "
                f"one free core at this cost: {1000 / per_case:.0f} cases/s",
            ),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=600)
    parser.add_argument("--rate", type=float, default=30.0, help="scored cases per second")
    parser.add_argument("--providers", type=int, default=50)
    parser.add_argument("--bidding-seconds", type=float, default=0.0)
    parser.add_argument("--processes", type=int, default=1, help="matching processes, one group")
    parser.add_argument("--partitions", type=int, default=3, help="partitions of each topic")
    parser.add_argument(
        "--scaling", action="store_true", help="1 process on Q partitions, 1 on 2Q, 2 on 2Q"
    )
    parser.add_argument(
        "--quick", action="store_true", help="make bench: 200 cases/s, 1 and 2 processes"
    )
    args = parser.parse_args()
    shapes = [(args.processes, args.partitions, args.cases)]
    if args.scaling:
        q = args.partitions
        shapes = [(1, q, args.cases), (1, 2 * q, args.cases), (2, 2 * q, args.cases)]
    rates = [args.rate] * len(shapes)
    if args.quick:
        shapes = [(1, 3, 2000), (1, 3, 3000), (2, 6, 1000)]
        rates = [TARGET_RATE, 1.5 * TARGET_RATE, TARGET_RATE]
    cases = os.environ.get("BENCH_MATCHING_CASES")
    for (processes, partitions, count), rate in zip(shapes, rates, strict=True):
        shape = argparse.Namespace(**vars(args))
        shape.processes, shape.partitions, shape.rate = processes, partitions, rate
        shape.cases = int(cases) if cases else count
        run_shape(shape)


def run_shape(args: argparse.Namespace) -> None:
    """One bench on a fresh database and fresh topics: K processes, Q partitions."""
    stack = find_stack()
    database = provision(stack, "matching")
    db_url = database.url
    prefix = unique_name("bench") + "."
    admin = stack.kafka_admin()
    catalogue = load_catalogue(KAFKA_CATALOGUE)
    if stack.kafka_secured:  # the services' rights and topics, as deploy/local/stack.sh makes
        asyncio.run(provision_topics(admin, catalogue, prefix, ["matching"], args.partitions))
    env = {
        **os.environ,
        "RECOUVRA_ENV": "development",
        **stack.kafka_env("matching"),
        "RECOUVRA_KAFKA_TOPIC_PREFIX": prefix,
        "RECOUVRA_KAFKA_PARTITIONS": str(args.partitions),
        **platform_pki().env("matching"),
        "RECOUVRA_MATCHING_DATABASE_URL": db_url,
        **identity_keys().env("matching"),
        "RECOUVRA_MATCHING_BIDDING_MINUTES": str(args.bidding_seconds / 60),
        "RECOUVRA_LOG_LEVEL": "WARNING",
    }
    if args.bidding_seconds > 0:  # bidding periods close on time; with none, nothing is due
        env["RECOUVRA_MATCHING_TIMER_POLL_SECONDS"] = "0.1"
    log = Path(os.environ.get("BENCH_MATCHING_LOG", os.devnull)).open("ab")  # noqa: SIM115
    processes: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        for _ in range(args.processes):
            port = free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "matching"],
                env={**env, "RECOUVRA_MATCHING_GRPC_PORT": str(port)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            processes.append((process, port))
            wait_serving(f"127.0.0.1:{port}", "matching", process=process)
        asyncio.run(register_auto_bidders(f"127.0.0.1:{processes[0][1]}", args.providers))
        asyncio.run(run(args, db_url, prefix, admin, [p.pid for p, _ in processes]))
    finally:
        for process, _ in processes:
            process.terminate()
        for process, _ in processes:
            process.wait(timeout=30)
        log.close()
        discard(stack, [database])
        asyncio.run(delete_topics_of(admin, [prefix]))
        if stack.kafka_secured:
            asyncio.run(revoke(admin, catalogue, prefix, ["matching"]))


if __name__ == "__main__":
    main()
