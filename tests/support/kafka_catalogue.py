"""Who may do what on Kafka, derived from the seven services' own wiring.

Each service has its own Kafka user. It may write its own topics (`<service>.`) and the
dead-letter topics of its own subscriptions (`<topic>.dlt.<group>`), read exactly the topics it
subscribes to, in its own consumer groups (`<service>` and `<service>-*`), and create nothing:
topics are made at deploy by the admin (deploy/local/stack.sh, Strimzi's KafkaTopic in k8s/).

    python -m tests.support.kafka_catalogue   rewrite deploy/kafka-access.json,
                                              k8s/base/kafka-users.yaml,
                                              k8s/base/kafka-operator-user.yaml and
                                              k8s/base/kafka-scaling.yaml from the wiring

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
OPERATOR_USER = ROOT / "k8s" / "base" / "kafka-operator-user.yaml"
KAFKA_SCALING = ROOT / "k8s" / "base" / "kafka-scaling.yaml"
# The consumers KEDA scales on their lag (the others have fixed replicas, the gateway CPU).
AUTOSCALED = ("scoring", "messaging", "vault", "settlement")
# Unhandled events per replica before KEDA adds one, per consumer group; at most one replica
# per partition is useful (RECOUVRA_KAFKA_PARTITIONS, k8s/infra/kafka-topics.yaml).
LAG_PER_REPLICA = 50
MIN_REPLICAS = 2
MAX_REPLICAS = 6
# The people's Kafka user, for `python -m recouvra_shared.deadletters list|replay`.
OPERATOR = "operator"

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


def operator_acls(catalogue: dict[str, Any]) -> list[Acl]:
    """What replaying dead letters takes, and nothing else: read each dead-letter topic (as its
    `<dlt>.replayer` group, or with no group to list), write the topic each one replays into."""
    letters = sorted({t for names in catalogue["topics"].values() for t in names if ".dlt." in t})
    sources = sorted({t.split(".dlt.")[0] for t in letters})
    acls = [_acl("topic", dlt, "literal", "Describe", "Read") for dlt in letters]
    acls += [_acl("topic", topic, "literal", "Describe", "Write") for topic in sources]
    acls += [_acl("group", f"{dlt}.replayer", "literal", "Read") for dlt in letters]
    return acls


def operator_user_yaml(catalogue: dict[str, Any]) -> str:
    """The operators' Strimzi KafkaUser, with operator_acls."""
    header = (
        "# The operators' Kafka user (SCRAM-SHA-512), for dead-letter replay only: it reads every\n"
        "# dead-letter topic and writes the topics they replay into, nothing else. Generated by\n"
        "# `python -m tests.support.kafka_catalogue` (tests/contracts/test_kafka_access.py checks\n"
        "# it). Strimzi writes its password into Secret kafka-operator; an operator passes it to\n"
        "# the tool as RECOUVRA_KAFKA_ADMIN_USERNAME=operator / RECOUVRA_KAFKA_ADMIN_PASSWORD.\n"
    )
    document = {
        "apiVersion": "kafka.strimzi.io/v1",
        "kind": "KafkaUser",
        "metadata": {"name": OPERATOR, "labels": {"strimzi.io/cluster": "recouvra"}},
        "spec": {
            "authentication": {"type": "scram-sha-512"},
            "authorization": {"type": "simple", "acls": operator_acls(catalogue)},
        },
    }
    return header + yaml.safe_dump(document, sort_keys=False, width=100)


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


def consumer_groups(service: str) -> list[str]:
    """The consumer groups of a service's subscriptions, from its wiring."""
    _, subscriptions = _wiring(service)
    return sorted({group for _, group, _ in subscriptions})


def kafka_scaling_yaml(groups: dict[str, list[str]]) -> str:
    """KEDA's ScaledObject per autoscaled consumer: one Kafka trigger per consumer group, read
    as the service's own Kafka user (TriggerAuthentication kafka-<service>)."""
    header = (
        "# KEDA scales each Kafka consumer on its lag: one `kafka` trigger per consumer group of\n"
        "# the service (the replica count is the largest any group asks for), read from the\n"
        "# brokers as the service's own Kafka user, whose ACLs already allow describing its\n"
        "# groups and topics. Generated from the services' wiring by\n"
        "# `python -m tests.support.kafka_catalogue`; do not edit by hand\n"
        "# (tests/contracts/test_kafka_access.py checks it). Needs KEDA 2.21 (k8s/README.md).\n"
    )
    documents: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "kafka-scaling"},
            # KEDA reads the user name from here: Strimzi's Secret kafka-<user> holds only the
            # password. TLS (the cluster CA) and SCRAM-SHA-512, as the services connect.
            "data": {
                "sasl": "scram_sha512",
                "tls": "enable",
                **{f"{service}-username": service for service in groups},
            },
        }
    ]
    for service, names in groups.items():
        labels = {"app": service}
        documents.append(
            {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "TriggerAuthentication",
                "metadata": {"name": f"kafka-{service}", "labels": labels},
                "spec": {
                    "configMapTargetRef": [
                        {"parameter": "sasl", "name": "kafka-scaling", "key": "sasl"},
                        {"parameter": "tls", "name": "kafka-scaling", "key": "tls"},
                        {
                            "parameter": "username",
                            "name": "kafka-scaling",
                            "key": f"{service}-username",
                        },
                    ],
                    "secretTargetRef": [
                        {"parameter": "password", "name": f"kafka-{service}", "key": "password"},
                        {"parameter": "ca", "name": "kafka-cluster-ca", "key": "ca.crt"},
                    ],
                },
            }
        )
        documents.append(
            {
                "apiVersion": "keda.sh/v1alpha1",
                "kind": "ScaledObject",
                "metadata": {"name": service, "labels": labels},
                "spec": {
                    "scaleTargetRef": {"name": service},
                    "pollingInterval": 30,
                    "minReplicaCount": MIN_REPLICAS,
                    "maxReplicaCount": MAX_REPLICAS,
                    "advanced": {
                        "horizontalPodAutoscalerConfig": {
                            "behavior": {
                                # Every scale-down rebalances the consumer groups: slowly.
                                "scaleDown": {
                                    "stabilizationWindowSeconds": 300,
                                    "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                                }
                            }
                        }
                    },
                    "triggers": [
                        {
                            "type": "kafka",
                            "name": group,
                            "metadata": {
                                "bootstrapServersFromEnv": "RECOUVRA_KAFKA_BOOTSTRAP",
                                "consumerGroup": group,
                                "lagThreshold": str(LAG_PER_REPLICA),
                                "offsetResetPolicy": "earliest",
                            },
                            "authenticationRef": {"name": f"kafka-{service}"},
                        }
                        for group in names
                    ],
                },
            }
        )
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
    OPERATOR_USER.write_text(operator_user_yaml(catalogue))
    KAFKA_SCALING.write_text(
        kafka_scaling_yaml({service: consumer_groups(service) for service in AUTOSCALED})
    )


if __name__ == "__main__":
    main()
