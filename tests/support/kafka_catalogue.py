"""Who may do what on Kafka, derived from the seven services' own wiring.

Each service has its own Kafka user. It may write its own topics (`<service>.`) and the
dead-letter topics of its own subscriptions (`<topic>.dlt.<group>`), read exactly the topics it
subscribes to, in its own consumer groups (`<service>` and `<service>-*`), and create nothing:
topics are made at deploy by the admin (deploy/local/stack.sh, Strimzi's KafkaTopic in k8s/).

    python -m tests.support.kafka_catalogue   rewrite deploy/kafka-access.json and
                                              k8s/infra/kafka-users.yaml from the wiring

tests/contracts/test_kafka_access.py fails when either file no longer matches the wiring.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.support.wiring import SERVICES, parts_of

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "deploy" / "kafka-access.json"
KAFKA_USERS = ROOT / "k8s" / "base" / "kafka-users.yaml"

Acl = dict[str, Any]


def _wiring(service: str) -> tuple[list[str], list[tuple[str, str, str]]]:
    """(published topics, [(topic, group, dead-letter topic)]) from the service's bootstrap."""
    parts = parts_of(service)
    subscriptions = [(s.topic, s.consumer, s.dead_letter_topic) for s in parts.subscriptions]
    return list(parts.published_topics), subscriptions


def _acl(kind: str, name: str, pattern: str, *operations: str) -> Acl:
    return {
        "resource": {"type": kind, "name": name, "patternType": pattern},
        "operations": list(operations),
    }


def service_acls(
    service: str, published: list[str], subscriptions: list[tuple[str, str, str]]
) -> list[Acl]:
    """The ACLs of one service's user (Strimzi's KafkaUser vocabulary)."""
    own = f"{service}."
    strays = [t for t in published if not t.startswith(own)]
    if strays:
        raise ValueError(f"{service} publishes topics outside {own}*: {strays}")
    groups = sorted({group for _, group, _ in subscriptions})
    foreign = [g for g in groups if g != service and not g.startswith(f"{service}-")]
    if foreign:
        raise ValueError(f"{service} consumes in groups outside {service}, {service}-*: {foreign}")
    acls = [_acl("topic", own, "prefix", "Describe", "Write")]
    acls += [
        _acl("topic", dlt, "literal", "Describe", "Write")
        for dlt in sorted({d for *_, d in subscriptions})
    ]
    acls += [
        _acl("topic", t, "literal", "Describe", "Read")
        for t in sorted({t for t, _, _ in subscriptions})
    ]
    if service in groups:
        acls.append(_acl("group", service, "literal", "Read"))
    if any(g.startswith(f"{service}-") for g in groups):
        acls.append(_acl("group", f"{service}-", "prefix", "Read"))
    return acls


def build_catalogue() -> dict[str, Any]:
    """Users, their ACLs and every topic, from the wiring (nothing connects)."""
    users: dict[str, list[Acl]] = {}
    topics: dict[str, list[str]] = {}
    for service in SERVICES:
        published, subscriptions = _wiring(service)
        users[service] = service_acls(service, published, subscriptions)
        topics[service] = sorted(
            {*published, *(t for t, _, _ in subscriptions), *(d for *_, d in subscriptions)}
        )
    return {"users": users, "topics": topics}


def kafka_users_yaml(catalogue: dict[str, Any]) -> str:
    """One Strimzi KafkaUser per service, with SCRAM-SHA-512 and the catalogue's ACLs."""
    header = (
        "# One Kafka user per service (SCRAM-SHA-512), with the ACLs of deploy/kafka-access.json.\n"
        "# Generated from the services' wiring by `python -m tests.support.kafka_catalogue`;\n"
        "# do not edit by hand (tests/contracts/test_kafka_access.py checks it). Strimzi's user\n"
        "# operator writes each password into Secret kafka-<user> (key `password`) beside the\n"
        "# services, who read it from there.\n"
    )
    documents = [
        {
            "apiVersion": "kafka.strimzi.io/v1",
            "kind": "KafkaUser",
            "metadata": {"name": user, "labels": {"strimzi.io/cluster": "recouvra"}},
            "spec": {
                "authentication": {"type": "scram-sha-512"},
                "authorization": {"type": "simple", "acls": acls},
            },
        }
        for user, acls in catalogue["users"].items()
    ]
    return header + yaml.safe_dump_all(documents, sort_keys=False, width=100)


def catalogue_json(catalogue: dict[str, Any]) -> str:
    """The catalogue as JSON, one ACL or topic list per line (reviewable diffs)."""
    users = ",\n".join(
        f'  "{user}": [\n' + ",\n".join(f"   {json.dumps(acl)}" for acl in acls) + "\n  ]"
        for user, acls in catalogue["users"].items()
    )
    topics = ",\n".join(
        f'  "{service}": {json.dumps(names)}' for service, names in catalogue["topics"].items()
    )
    text = '{\n "users": {\n' + users + '\n },\n "topics": {\n' + topics + "\n }\n}\n"
    assert json.loads(text) == catalogue
    return text


def main() -> None:
    catalogue = build_catalogue()
    CATALOGUE.write_text(catalogue_json(catalogue))
    KAFKA_USERS.write_text(kafka_users_yaml(catalogue))


if __name__ == "__main__":
    main()
