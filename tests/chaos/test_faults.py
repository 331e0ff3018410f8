"""The fault plan and the Kafka link faults: the same seed plays the same faults, every kind once
first, and a Kafka link fault acts on the one link every client takes to the run's broker (then
heals it), never on a service's PostgreSQL link."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.chaos.faults import KAFKA_CRASH, KAFKA_LINK, KINDS, Fault, Injector, plan
from tests.chaos.own_kafka import OwnKafka
from tests.chaos.run import keep_logs

WITH_KAFKA = (*KINDS, KAFKA_CRASH, *KAFKA_LINK)


def test_every_kafka_link_kind_is_played_once_first_and_the_plan_follows_the_seed() -> None:
    faults = plan(7, 40, WITH_KAFKA)
    assert [f.kind for f in faults[: len(WITH_KAFKA)]] == list(WITH_KAFKA)
    assert faults == plan(7, 40, WITH_KAFKA)
    assert faults != plan(8, 40, WITH_KAFKA)
    kafka_link = [f for f in faults if f.kind in KAFKA_LINK]
    assert {f.target for f in kafka_link} == {"kafka"}
    for fault in kafka_link:
        assert fault.size > 0, fault
    # without the harness's own broker there is no Kafka link to slow, reset or cut
    assert not {f.kind for f in plan(7, 40)} & {KAFKA_CRASH, *KAFKA_LINK}


class RecordingProxy:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Any]] = []

    def add_latency(self, name: str, latency_ms: int, jitter_ms: int = 0) -> None:
        self.calls.append(("latency", name, latency_ms))

    def add_drops(self, name: str, after_ms: int) -> None:
        self.calls.append(("reset_peer", name, after_ms))

    def cut(self, name: str) -> None:
        self.calls.append(("cut", name, None))

    def heal(self, name: str) -> None:
        self.calls.append(("heal", name, None))


async def test_kafka_link_faults_slow_reset_and_cut_the_broker_link_then_heal_it() -> None:
    proxy = RecordingProxy()
    world: Any = SimpleNamespace(proxy=proxy, kafka=SimpleNamespace(LINK=OwnKafka.LINK))
    injector = Injector(world)
    await injector.apply(Fault("kafka-latency", "kafka", 300), hold=0)
    await injector.apply(Fault("kafka-drop", "kafka", 50), hold=0)
    await injector.apply(Fault("kafka-cut", "kafka", 0.01))
    assert proxy.calls == [
        ("latency", "kafka", 300),
        ("heal", "kafka", None),
        ("reset_peer", "kafka", 50),
        ("heal", "kafka", None),
        ("cut", "kafka", None),
        ("heal", "kafka", None),
    ]
    assert injector.done == {"kafka-latency": 1, "kafka-drop": 1, "kafka-cut": 1}


async def test_a_run_that_dies_leaves_its_faults_as_played_and_its_logs(tmp_path: Path) -> None:
    workdir, kept = tmp_path / "run", tmp_path / "kept"
    proxy = RecordingProxy()
    world: Any = SimpleNamespace(proxy=proxy, kafka=SimpleNamespace(LINK=OwnKafka.LINK))
    injector = Injector(world, journal=workdir / "faults-played.txt")
    workdir.mkdir()
    await injector.apply(Fault("kafka-latency", "kafka", 300), hold=0)
    await injector.apply(Fault("kafka-cut", "kafka", 0.01))
    played = (workdir / "faults-played.txt").read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in played] == [
        "kafka-latency:kafka:300",
        "kafka-cut:kafka:0.01",
    ]
    for name in ("gateway.log", "postgres/logs/postgres.log", "kafka/logs/kafka.log"):
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(f"the {name}\n")
    segment = workdir / "kafka/data/intake.case-submitted.v1-0/00000000000000000000.log"
    segment.parent.mkdir(parents=True)
    segment.write_bytes(b"\0" * 1000)
    (workdir / "postgres/data").mkdir(parents=True)
    (workdir / "postgres/data/PG_VERSION").write_text("16\n")

    keep_logs(workdir, kept)

    assert sorted(str(p.relative_to(kept)) for p in kept.rglob("*") if p.is_file()) == [
        "faults-played.txt",
        "gateway.log",
        "kafka/logs/kafka.log",
        "postgres/logs/postgres.log",
    ]
    assert (kept / "gateway.log").read_text() == "the gateway.log\n"
