"""Logs are JSON lines that carry the case and trace they belong to."""

import json
import logging

from recouvra_shared.context import adopt_traceparent, case_id_var
from recouvra_shared.logging import JsonFormatter


def test_a_log_line_is_json_with_case_trace_and_extra_fields() -> None:
    traceparent = adopt_traceparent(None)
    token = case_id_var.set("case-42")
    try:
        record = logging.LogRecord(
            "intake", logging.WARNING, __file__, 1, "refused %s", ("x",), None
        )
        record.field = "amount"
        line = json.loads(JsonFormatter("intake").format(record))
    finally:
        case_id_var.reset(token)
    assert line["msg"] == "refused x"
    assert line["level"] == "warning"
    assert line["service"] == "intake"
    assert line["case_id"] == "case-42"
    assert line["trace_id"] == traceparent.split("-")[1]
    assert line["field"] == "amount"


def test_an_exception_is_kept_in_the_same_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    rendered = JsonFormatter("scoring").format(record)
    assert "\n" not in rendered
    assert "ValueError: boom" in json.loads(rendered)["exc"]
