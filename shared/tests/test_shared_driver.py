"""A statement compiled for the driver sends what SQLAlchemy's session would send."""

from __future__ import annotations

from sqlalchemy import bindparam, func, insert, select

from recouvra_shared.db import outbox
from recouvra_shared.driver import DriverStatement


def test_constants_and_an_in_list_are_bound_and_values_come_by_name_in_position() -> None:
    statement = DriverStatement(
        select(func.count()).where(
            outbox.c.topic.in_(("a", "b")),
            outbox.c.key == bindparam("key"),
            outbox.c.publish_attempts < 5,
        )
    )

    assert "outbox.key = $1::VARCHAR" in statement.text
    assert "outbox.publish_attempts < $2::INTEGER" in statement.text
    assert "outbox.topic IN ($3::VARCHAR, $4::VARCHAR)" in statement.text
    assert statement.args({"key": "case-1"}) == ["case-1", 5, "a", "b"]


def test_an_insert_of_columns_converts_each_value_as_the_session_would_and_returns_nothing() -> (
    None
):
    statement = DriverStatement(insert(outbox), columns=["topic", "headers", "key"])

    assert "RETURNING" not in statement.text
    assert statement.text.startswith("INSERT INTO outbox (topic, key, headers) VALUES")
    assert statement.args({"topic": "t", "key": "k", "headers": {"event-type": "x"}}) == [
        "t",
        "k",
        '{"event-type": "x"}',  # JSONB is sent as its text
    ]
    assert statement.args({"topic": "t", "key": "k", "headers": None}) == ["t", "k", None]
