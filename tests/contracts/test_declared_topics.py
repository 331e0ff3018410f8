"""Every topic a service publishes or reads, and every dead-letter topic, is declared for k8s.

Production Kafka refuses to invent topics (auto.create.topics.enable: false) and Strimzi keeps
the retention of declared ones; a service creating a missing topic at start would get neither
the retention nor the review. So the wiring of the seven services and k8s/infra must agree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.support.wiring import SERVICES, parts_of

ROOT = Path(__file__).resolve().parents[2]
DLT_RETENTION_MS = 30 * 24 * 3600 * 1000


def wired_topics() -> dict[str, set[str]]:
    """Topic -> the services that need it, from each service's own bootstrap (nothing connects)."""
    needed: dict[str, set[str]] = {}
    for service in SERVICES:
        parts = parts_of(service)
        topics = [*parts.published_topics]
        for subscription in parts.subscriptions:
            topics += [subscription.topic, subscription.dead_letter_topic]
        for topic in topics:
            needed.setdefault(topic, set()).add(service)
    return needed


def declared_topics() -> dict[str, dict[str, object]]:
    documents = yaml.safe_load_all((ROOT / "k8s" / "infra" / "kafka-topics.yaml").read_text())
    return {d["spec"]["topicName"]: d["spec"] for d in documents if d and d["kind"] == "KafkaTopic"}


def test_every_wired_topic_is_declared_and_every_declared_topic_is_used() -> None:
    wired, declared = wired_topics(), declared_topics()
    missing = {
        topic: sorted(services) for topic, services in wired.items() if topic not in declared
    }
    unused = sorted(set(declared) - set(wired))
    assert missing == {}, "declare these in k8s/infra/kafka-topics.yaml"
    assert unused == [], "no service publishes or reads these"


def test_dead_letters_are_kept_longer_than_events() -> None:
    for topic, spec in declared_topics().items():
        retention = spec["config"]["retention.ms"]  # type: ignore[index]
        if ".dlt." in topic:
            assert retention == DLT_RETENTION_MS, topic
        else:
            assert retention < DLT_RETENTION_MS, topic
