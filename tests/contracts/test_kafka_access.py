"""The Kafka users' rights written down for the local stack and for Strimzi are the ones the
services' wiring needs, no more: regenerate both with `python -m tests.support.kafka_catalogue`."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.support.kafka_catalogue import (
    AUTOSCALED,
    CATALOGUE,
    KAFKA_SCALING,
    KAFKA_USERS,
    OPERATOR_USER,
    _wiring,
    build_catalogue,
    catalogue_json,
    consumer_groups,
    kafka_scaling_yaml,
    kafka_users_yaml,
    operator_acls,
    operator_user_yaml,
    service_acls,
)


def test_the_catalogue_and_the_kafka_users_match_the_wiring() -> None:
    catalogue = build_catalogue()
    assert CATALOGUE.read_text() == catalogue_json(catalogue), "regenerate deploy/kafka-access.json"
    assert KAFKA_USERS.read_text() == kafka_users_yaml(catalogue), "regenerate kafka-users.yaml"
    assert OPERATOR_USER.read_text() == operator_user_yaml(catalogue), "regenerate it too"


def test_the_operators_user_replays_dead_letters_and_does_nothing_else() -> None:
    catalogue = {
        "topics": {
            "scoring": ["intake.case-submitted.v1", "intake.case-submitted.v1.dlt.scoring"],
            "vault": ["matching.case-closed.v1", "matching.case-closed.v1.dlt.vault-grants"],
        }
    }
    rights = {
        (
            a["resource"]["type"],
            a["resource"]["name"],
            a["resource"]["patternType"],
            *a["operations"],
        )
        for a in operator_acls(catalogue)
    }
    assert rights == {
        ("topic", "intake.case-submitted.v1.dlt.scoring", "literal", "Describe", "Read"),
        ("topic", "matching.case-closed.v1.dlt.vault-grants", "literal", "Describe", "Read"),
        ("topic", "intake.case-submitted.v1", "literal", "Describe", "Write"),
        ("topic", "matching.case-closed.v1", "literal", "Describe", "Write"),
        ("group", "intake.case-submitted.v1.dlt.scoring.replayer", "literal", "Read"),
        ("group", "matching.case-closed.v1.dlt.vault-grants.replayer", "literal", "Read"),
    }
    # The catalogue as committed (the test above holds it to the wiring).
    committed = json.loads(CATALOGUE.read_text())
    every_letter = {t for ts in committed["topics"].values() for t in ts if ".dlt." in t}
    read = {a["resource"]["name"] for a in operator_acls(committed) if "Read" in a["operations"]}
    assert len(every_letter) > 10
    assert every_letter <= read


def test_a_service_writes_only_under_its_name_and_reads_only_its_subscriptions() -> None:
    acls = service_acls(
        "vault", [], [("matching.case-assigned.v1", "vault-grants-case-assigned", "m.dlt.v")]
    )
    rights = {(a["resource"]["name"], a["resource"]["patternType"], *a["operations"]) for a in acls}
    assert rights == {
        ("vault.", "prefix", "Describe", "Write"),
        ("m.dlt.v", "literal", "Describe", "Write"),
        ("matching.case-assigned.v1", "literal", "Describe", "Read"),
        ("vault-", "prefix", "Read"),
    }
    assert not any("Create" in a["operations"] for a in acls)


def test_a_topic_or_group_outside_the_services_name_is_refused() -> None:
    with pytest.raises(ValueError, match="publishes topics outside gateway"):
        service_acls("gateway", ["matching.case-assigned.v1"], [])
    with pytest.raises(ValueError, match="consumes in groups outside vault"):
        service_acls("vault", [], [("matching.case-assigned.v1", "matching", "x.dlt.matching")])


def test_each_kafka_consumer_scales_on_the_lag_of_every_group_it_reads() -> None:
    assert KAFKA_SCALING.read_text() == kafka_scaling_yaml(
        {service: consumer_groups(service) for service in AUTOSCALED}
    ), "regenerate k8s/base/kafka-scaling.yaml"
    documents = list(yaml.safe_load_all(KAFKA_SCALING.read_text()))
    scaled = {d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "ScaledObject"}
    auths = {
        d["metadata"]["name"]: d["spec"] for d in documents if d["kind"] == "TriggerAuthentication"
    }
    usernames = next(d["data"] for d in documents if d["kind"] == "ConfigMap")
    users = {d["metadata"]["name"] for d in yaml.safe_load_all(KAFKA_USERS.read_text())}
    partitions = int(
        next(
            line.split("=", 1)[1]
            for line in (KAFKA_USERS.parent / "kustomization.yaml").read_text().splitlines()
            if "RECOUVRA_KAFKA_PARTITIONS=" in line
        )
    )
    assert set(scaled) == set(AUTOSCALED)
    for service, spec in scaled.items():
        _, subscriptions = _wiring(service)
        assert spec["scaleTargetRef"] == {"name": service}
        triggers = spec["triggers"]
        assert {t["metadata"]["consumerGroup"] for t in triggers} == {
            g for _, g, _ in subscriptions
        }
        assert len(triggers) == len({g for _, g, _ in subscriptions})
        # Idle replicas beyond the partition count would only wait for a rebalance.
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= partitions
        # KEDA reads the lag as the service's own Kafka user, with the password Strimzi made.
        [auth_name] = {t["authenticationRef"]["name"] for t in triggers}
        refs = {r["parameter"]: r for r in auths[auth_name]["secretTargetRef"]}
        assert refs["password"]["name"] == f"kafka-{service}"
        assert service in users
        username = next(
            r for r in auths[auth_name]["configMapTargetRef"] if r["parameter"] == "username"
        )
        assert usernames[username["key"]] == service


def test_no_kafka_consumer_is_left_on_a_cpu_autoscaler() -> None:
    base = KAFKA_USERS.parent
    cpu_scaled = {
        d["spec"]["scaleTargetRef"]["name"]
        for path in base.glob("*.yaml")
        for d in yaml.safe_load_all(path.read_text())
        if d and d.get("kind") == "HorizontalPodAutoscaler"
    }
    assert cpu_scaled == {"gateway"}
