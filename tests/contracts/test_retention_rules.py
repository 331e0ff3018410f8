"""Every table that only grows has a retention rule its service's runtime applies (issue 13,
point 13): the rules are read from what each bootstrap hands the runtime (the services that own
such a table; the others prune their inbox only)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recouvra_shared.retention import Retention, RetentionRule, platform_rules
from tests.support.wiring import SERVICES, parts_of, settings_of

# (service, table) -> shortest period that still serves the rows' purpose.
GROWING = {
    ("gateway", "login_failures"): timedelta(seconds=900),  # the lock-out window
    ("gateway", "idempotency_records"): timedelta(days=1),
    ("gateway", "invitations"): timedelta(0),  # counted from its expiry: it opens nothing then
    ("intake", "idempotency_keys"): timedelta(days=30),  # dead-letter topics' retention
    ("matching", "idempotency_keys"): timedelta(days=7),  # the gateway's own records
}


def test_each_growing_table_is_pruned_by_its_service_after_it_stops_mattering() -> None:
    pruned = {
        (service, rule.table.name): rule.period
        for service in sorted({service for service, _ in GROWING})
        for rule in parts_of(service).retention
    }
    assert set(pruned) == set(GROWING)
    assert [table for table, shortest in GROWING.items() if pruned[table] <= shortest] == []


def test_every_service_prunes_its_inbox_after_the_topics_forget_the_event() -> None:
    for service in SERVICES:
        [rule] = platform_rules(settings_of(service))
        assert rule.table.name == "inbox"
        assert rule.period > timedelta(days=14)


def test_a_rule_without_a_period_or_a_column_or_a_unique_name_is_refused() -> None:
    [inbox] = platform_rules(settings_of("intake"))
    with pytest.raises(ValueError, match="positive"):
        RetentionRule("inbox", inbox.table, "processed_at", timedelta(0))
    with pytest.raises(ValueError, match="no column"):
        RetentionRule("inbox", inbox.table, "created_at", timedelta(days=1))
    with pytest.raises(ValueError, match="unique"):
        Retention(None, [inbox, inbox])  # type: ignore[arg-type]
