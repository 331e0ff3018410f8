"""The Kafka users' rights written down for the local stack and for Strimzi are the ones the
services' wiring needs, no more: regenerate both with `python -m tests.support.kafka_catalogue`."""

from __future__ import annotations

import pytest

from tests.support.kafka_catalogue import (
    CATALOGUE,
    KAFKA_USERS,
    build_catalogue,
    catalogue_json,
    kafka_users_yaml,
    service_acls,
)


def test_the_catalogue_and_the_kafka_users_match_the_wiring() -> None:
    catalogue = build_catalogue()
    assert CATALOGUE.read_text() == catalogue_json(catalogue), "regenerate deploy/kafka-access.json"
    assert KAFKA_USERS.read_text() == kafka_users_yaml(catalogue), "regenerate kafka-users.yaml"


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
