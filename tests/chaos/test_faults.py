"""The fault plan and the Kafka link faults: the same seed plays the same faults, every kind once
first, and a Kafka link fault acts on the one link every client takes to the run's broker (then
heals it), never on a service's PostgreSQL link."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from tests.chaos.faults import KAFKA_CRASH, KAFKA_LINK, KINDS, Fault, Injector, plan
from tests.chaos.own_kafka import OwnKafka

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
