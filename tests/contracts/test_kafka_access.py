"""The Kafka users' rights written down for the local stack and for Strimzi are the ones the
services' wiring needs, no more: regenerate both with `python -m tests.support.kafka_catalogue`."""

from __future__ import annotations

import json

import pytest

from tests.support.kafka_catalogue import (
    CATALOGUE,
    KAFKA_USERS,
    OPERATOR_USER,
    build_catalogue,
    catalogue_json,
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
