"""Faults drawn from a seed: the same seed plays the same faults, in the same order, on the same
targets. Each is undone before the next (a killed process restarted, a link healed)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.chaos.world import SERVICES, World

KINDS = ("kill", "pg-latency", "pg-drop", "pg-cut", "clock-jump", "pg-crash")
KAFKA_CRASH = "kafka-crash"  # only with the harness's own broker (`--own-kafka`): slow to restart
# Only with the harness's own broker, which every client reaches through toxiproxy (own_kafka.py).
KAFKA_LINK = ("kafka-latency", "kafka-drop", "kafka-cut")
S3_CRASH = "s3-crash"  # only with the harness's own SeaweedFS (`--own-s3`)


@dataclass(frozen=True)
class Fault:
    kind: str
    target: str  # a service; "matching" for the clocks (matching's and messaging's)
    size: float  # milliseconds of latency or of a link's life, seconds down, minutes jumped

    def __str__(self) -> str:
        return f"{self.kind}:{self.target}:{self.size:g}"


def plan(seed: int, count: int, kinds: tuple[str, ...] = KINDS) -> list[Fault]:
    """`count` faults from `seed`, every kind in turn first so a short run has each kind."""
    rng = random.Random(seed)
    faults = []
    for n in range(count):
        kind = kinds[n] if n < len(kinds) else rng.choice(kinds)
        target = {
            "clock-jump": "matching", "pg-crash": "postgres", KAFKA_CRASH: "kafka",
            S3_CRASH: "seaweedfs", **dict.fromkeys(KAFKA_LINK, "kafka"),
        }.get(kind) or rng.choice(SERVICES)  # fmt: skip
        size = {
            "kill": 0.0,
            "pg-latency": float(rng.choice((100, 300, 800))),
            "pg-drop": float(rng.choice((50, 300, 1000))),
            "pg-cut": float(rng.choice((1, 3, 6))),
            "clock-jump": float(rng.randint(1, 4)),
            "pg-crash": float(rng.choice((0, 2, 5))),
            KAFKA_CRASH: float(rng.choice((0, 5))),
            "kafka-latency": float(rng.choice((100, 300, 800))),
            "kafka-drop": float(rng.choice((50, 300, 1000))),
            "kafka-cut": float(rng.choice((1, 3, 6))),
            S3_CRASH: float(rng.choice((0, 3))),
        }[kind]
        faults.append(Fault(kind, target, size))
    return faults


@dataclass
class Injector:
    """Applies faults to the world, one at a time, and counts them by kind."""

    world: World
    done: Counter[str] = field(default_factory=Counter)
    log: list[str] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)  # services the injector is restarting
    # Each fault also written here as it is played, with its time: what a run that dies
    # before its report leaves to read beside the services' logs.
    journal: Path | None = None

    def played(self, entry: str) -> None:
        self.log.append(entry)
        if self.journal is not None:
            with self.journal.open("a") as journal:
                journal.write(f"{datetime.now(UTC).isoformat(timespec='milliseconds')} {entry}\n")

    async def restart_the_dead(self, stop: asyncio.Event) -> None:
        """A process that died on its own (a crash, a fault it injected in itself) is counted
        and started again, without the setting that made it kill itself."""
        while not stop.is_set():
            for name, process in self.world.processes.items():
                if name in self.busy or process.exited() is None:
                    continue
                self.done["crash (restarted)"] += 1
                self.played(f"crash:{name}:{process.exited()}")
                process.env.pop(f"RECOUVRA_{name.upper()}_CHAOS_RELAY_KILL_AFTER_BATCHES", None)
                await asyncio.to_thread(process.start)
            await asyncio.sleep(0.3)

    async def apply(self, fault: Fault, hold: float = 2.0) -> None:
        proxy, link = self.world.proxy, f"{fault.target}-postgres"
        if fault.kind in KAFKA_LINK:  # the one link every client takes to the run's broker
            assert self.world.kafka is not None, f"{fault.kind} needs the harness's own broker"
            link = self.world.kafka.LINK
        if fault.kind == "kill":
            process = self.world.processes[fault.target]
            self.busy.add(fault.target)
            try:
                process.kill()
                await asyncio.to_thread(process.start)
            finally:
                self.busy.discard(fault.target)
        elif fault.kind in ("pg-latency", "kafka-latency"):
            proxy.add_latency(link, int(fault.size), jitter_ms=int(fault.size) // 4)
            await asyncio.sleep(hold)
            proxy.heal(link)
        elif fault.kind in ("pg-drop", "kafka-drop"):
            proxy.add_drops(link, after_ms=int(fault.size))
            await asyncio.sleep(hold)
            proxy.heal(link)
        elif fault.kind in ("pg-cut", "kafka-cut"):
            proxy.cut(link)
            await asyncio.sleep(fault.size)
            proxy.heal(link)
        elif fault.kind == "pg-crash":
            postgres = self.world.postgres
            assert postgres is not None, "pg-crash needs the harness's own PostgreSQL"
            postgres.crash()
            await asyncio.sleep(fault.size)
            await asyncio.to_thread(postgres.start)
        elif fault.kind == KAFKA_CRASH:
            kafka = self.world.kafka
            assert kafka is not None, "kafka-crash needs the harness's own broker"
            kafka.crash()
            await asyncio.sleep(fault.size)
            await asyncio.to_thread(kafka.start)
        elif fault.kind == S3_CRASH:
            seaweed = self.world.seaweed
            assert seaweed is not None, "s3-crash needs the harness's own SeaweedFS"
            seaweed.crash()
            await asyncio.sleep(fault.size)
            await asyncio.to_thread(seaweed.start)
        elif fault.kind == "clock-jump":  # matching's and messaging's test clocks
            self.world.advance_clocks(timedelta(minutes=fault.size))
        else:
            raise ValueError(f"unknown fault kind {fault.kind}")
        self.done[fault.kind] += 1
        self.played(str(fault))

    async def play(self, faults: list[Fault], every: float, stop: asyncio.Event) -> None:
        """One fault every `every` seconds until they are all played or `stop` is set."""
        for fault in faults:
            if stop.is_set():
                return
            try:
                await asyncio.wait_for(stop.wait(), timeout=every)
                return
            except TimeoutError:
                pass
            await self.apply(fault)
