"""One case, one trace: a creditor submits a case over REST and the stack's Jaeger shows a single
trace holding it from the gateway's request through intake, the Kafka hop to scoring (and its
call back to intake) and the hop to matching, as an on-call engineer would open it.

The four services run as their own processes on the real stack and export their spans over
OTLP/HTTP to the stack's Jaeger (`deploy/local/stack.sh`); the trace is found by the case id
every consumer span carries (`case.id`), which is how docs/operations.md says to find one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_matching_marketplace_flow import case_body
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import (
    Marketplace,
    eventually,
    idempotency_key,
    marketplace,
    operator_log_in,
    sign_up_creditor,
    sign_up_provider,
    wait_http,
)
from tests.support.stack import Stack

pytestmark = pytest.mark.e2e

SUBMITTED = "intake.case-submitted.v1"
SCORED = "scoring.case-scored.v1"
QUOTED = "matching.quote-issued.v1"
BIDDING_CLOSES = timedelta(minutes=16)  # bidding lasts 15 minutes
INTAKE = "recouvra.intake.v1.IntakeService"


def jaeger() -> tuple[str, str]:
    """The stack's Jaeger: its query API and the OTLP endpoint services export to."""
    url, otlp = os.environ.get("RECOUVRA_JAEGER_URL"), os.environ.get("RECOUVRA_OTLP_ENDPOINT")
    assert url, "RECOUVRA_JAEGER_URL: Jaeger is started by `deploy/local/stack.sh start`"
    assert otlp, "RECOUVRA_OTLP_ENDPOINT: printed by `deploy/local/stack.sh env`"
    try:
        answers = httpx.get(f"{url}/api/services", timeout=5).status_code == 200
    except httpx.TransportError:
        answers = False
    assert answers, f"Jaeger does not answer at {url}: `deploy/local/stack.sh start jaeger`"
    return url, otlp


def spans_by_service(trace: dict[str, Any]) -> dict[str, set[str]]:
    """Operation names of a Jaeger trace, per service that made them."""
    names = {key: process["serviceName"] for key, process in trace["processes"].items()}
    found: dict[str, set[str]] = {}
    for span in trace["spans"]:
        found.setdefault(names[span["processID"]], set()).add(span["operationName"])
    return found


def missing_hops(trace: dict[str, Any]) -> dict[str, set[str]]:
    """The hops of a case's way from REST to matching that a trace does not hold (yet): spans
    arrive in Jaeger one batch at a time, each when it ends."""
    found = spans_by_service(trace)
    expected = {
        "gateway": {"POST /v1/cases"},
        # intake's gRPC method, its relay sending the fact to Kafka, and scoring's question
        "intake": {f"{INTAKE}/SubmitCase", f"{SUBMITTED} send", f"{INTAKE}/GetDebtorSiren"},
        # scoring handles it, asks intake for the debtor's SIREN, and sends its score on
        "scoring": {f"{SUBMITTED} process", f"{INTAKE}/GetDebtorSiren", f"{SCORED} send"},
        "matching": {f"{SCORED} process"},
    }
    return {
        service: names - found.get(service, set())
        for service, names in expected.items()
        if names - found.get(service, set())
    }


async def a_case_submitted_over_rest(
    name: str,
    otlp: str,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> tuple[Marketplace, str]:
    """The four services of a marketplace, started and tracing to `otlp`, and the id of a case
    a new creditor submitted to them over REST."""
    market = marketplace(name, make_database, run_service, tmp_path / "clock")
    for process in market.processes:
        # Spans leave every 200 ms instead of every 5 s: the test waits less.
        process.env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    await market.start()

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{market.http_port}", timeout=30
    ) as client:
        await wait_http(client, market.gateway)
        creditor = await sign_up_creditor(client)
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        return market, submitted.json()["case_id"]


async def test_a_case_submitted_over_rest_is_one_trace_across_gateway_intake_scoring_matching(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    jaeger_url, otlp = jaeger()
    market, case_id = await a_case_submitted_over_rest(
        "e2e_traces", otlp, make_database, run_service, tmp_path
    )

    async with httpx.AsyncClient(base_url=jaeger_url, timeout=10) as query:

        async def traces_of_the_case() -> list[dict[str, Any]] | None:
            """The traces of the case matching took part in, once one of them holds every hop."""
            answer = await query.get(
                "/api/traces",
                params={
                    "service": "matching",
                    "tags": json.dumps({"case.id": case_id}),
                    "lookback": "1h",
                    "limit": "20",
                },
            )
            if answer.status_code != 200:
                return None
            traces: list[dict[str, Any]] = answer.json()["data"] or []
            return traces if any(not missing_hops(t) for t in traces) else None

        traces = await eventually(
            traces_of_the_case, "Jaeger holds every hop of the case from REST to matching", 90
        )

    assert len(traces) == 1, [t["traceID"] for t in traces]
    (trace,) = traces
    # It starts at the creditor's request: every other span descends from it.
    roots = [s for s in trace["spans"] if not s.get("references")]
    assert [r["operationName"] for r in roots] == ["POST /v1/cases"], roots
    # The gateway's log line of the request carries the same trace id.
    lines = [json.loads(line) for line in market.gateway.log_text().splitlines() if line[:1] == "{"]
    (request_line,) = [line for line in lines if '"POST /v1/cases' in line["msg"]]
    assert request_line["trace_id"] == trace["traceID"]


async def test_an_auction_closing_is_a_trace_of_its_own_linked_to_the_case_submission(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    """No request or event closes an auction: matching's timer does. Jaeger shows the closing
    as its own trace, found by the case id, that starts at `auction close`, follows from the
    submission's trace (which armed the timer) and holds the quote it sent."""
    jaeger_url, otlp = jaeger()
    market = marketplace("e2e_timer_traces", make_database, run_service, tmp_path / "clock")
    for process in market.processes:
        process.env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    await market.start()

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{market.http_port}", timeout=30
    ) as client:
        await wait_http(client, market.gateway)
        operator = await operator_log_in(client, market.gateway)
        _, provider = await sign_up_provider(
            client, "Etude Lambert", "552100554", operator=operator
        )
        rule = await client.post(
            "/v1/provider/auto-bid-rules",
            json={"name": "all", "fee_percent": "10"},
            headers=provider | idempotency_key(),
        )
        assert rule.status_code == 200, rule.text
        creditor = await sign_up_creditor(client)
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]

    async with httpx.AsyncClient(base_url=jaeger_url, timeout=10) as query:

        async def traces(operation: str) -> list[dict[str, Any]] | None:
            """Matching's traces of the case holding this operation, once there is one."""
            answer = await query.get(
                "/api/traces",
                params={
                    "service": "matching",
                    "operation": operation,
                    "tags": json.dumps({"case.id": case_id}),
                    "lookback": "1h",
                    "limit": "20",
                },
            )
            found: list[dict[str, Any]] = (answer.json()["data"] or []) if answer.is_success else []
            return found or None

        # The auction opened as matching handled the score, in the submission's trace.
        (submission,) = await eventually(
            lambda: traces(f"{SCORED} process"), "matching handled the case's score", 90
        )
        market.clock.advance(BIDDING_CLOSES)

        async def closing_with_its_quote() -> list[dict[str, Any]] | None:
            found = await traces("auction close")
            if found and any(f"{QUOTED} send" in spans_by_service(t)["matching"] for t in found):
                return found
            return None

        closings = await eventually(
            closing_with_its_quote, "Jaeger holds the auction's closing and its quote", 90
        )

    assert len(closings) == 1, [t["traceID"] for t in closings]
    (closing,) = closings
    assert closing["traceID"] != submission["traceID"]
    roots = [
        s
        for s in closing["spans"]
        if not any(r["refType"] == "CHILD_OF" for r in s.get("references") or [])
    ]
    assert [r["operationName"] for r in roots] == ["auction close"], roots
    (root,) = roots
    tags = {t["key"]: t["value"] for t in root["tags"]}
    assert tags["case.id"] == case_id
    # It follows from the work that armed the timer: the submission's trace.
    assert [(r["refType"], r["traceID"]) for r in root["references"]] == [
        ("FOLLOWS_FROM", submission["traceID"])
    ]
