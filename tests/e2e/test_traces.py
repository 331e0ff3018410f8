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
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_matching_marketplace_flow import case_body
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import (
    CREDITOR_SIREN,
    PASSWORD,
    eventually,
    idempotency_key,
    log_in,
    marketplace,
    wait_http,
)
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.e2e

SERVICES = {"gateway", "intake", "scoring", "matching"}


def jaeger() -> tuple[str, str]:
    """The stack's Jaeger: its query API and the OTLP endpoint services export to."""
    url, otlp = os.environ.get("RECOUVRA_JAEGER_URL"), os.environ.get("RECOUVRA_OTLP_ENDPOINT")
    assert url, "RECOUVRA_JAEGER_URL: Jaeger is started by `deploy/local/stack.sh start`"
    assert otlp, "RECOUVRA_OTLP_ENDPOINT: printed by `deploy/local/stack.sh env`"
    return url, otlp


def spans_by_service(trace: dict[str, Any]) -> dict[str, set[str]]:
    """Operation names of a Jaeger trace, per service that made them."""
    names = {key: process["serviceName"] for key, process in trace["processes"].items()}
    found: dict[str, set[str]] = {}
    for span in trace["spans"]:
        found.setdefault(names[span["processID"]], set()).add(span["operationName"])
    return found


async def test_a_case_submitted_over_rest_is_one_trace_across_gateway_intake_scoring_matching(
    stack: Stack,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    jaeger_url, otlp = jaeger()
    market = marketplace("e2e_traces", make_database, run_service, tmp_path / "clock")
    for process in market.processes:
        # Spans leave every 200 ms instead of every 5 s: the test waits less.
        process.env |= {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    await market.start()

    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{market.http_port}", timeout=30
    ) as client:
        await wait_http(client, market.gateway)
        email = f"{unique_name('creditor')}@example.fr"
        signed = await client.post(
            "/v1/accounts",
            json={
                "organisation_name": "Atelier Dupuis",
                "siren": CREDITOR_SIREN,
                "email": email,
                "password": PASSWORD,
            },
            headers=idempotency_key(),
        )
        assert signed.status_code == 201, signed.text
        creditor = await log_in(client, email)
        submitted = await client.post(
            "/v1/cases", json=case_body(), headers=creditor | idempotency_key()
        )
        assert submitted.status_code == 201, submitted.text
        case_id = submitted.json()["case_id"]

    async with httpx.AsyncClient(base_url=jaeger_url, timeout=10) as query:

        async def traces_of_the_case() -> list[dict[str, Any]] | None:
            """The case's traces once matching's span of it has arrived (with the others)."""
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
            whole = traces and all(set(spans_by_service(t)) >= SERVICES for t in traces)
            return traces if whole else None

        traces = await eventually(
            traces_of_the_case, "Jaeger holds the case's trace from all four services", within=90
        )

    assert len(traces) == 1, [t["traceID"] for t in traces]
    (trace,) = traces
    operations = spans_by_service(trace)
    assert set(operations) >= SERVICES, operations
    # It starts at the creditor's request, and each hop is a span of the service that made it.
    roots = [s for s in trace["spans"] if not s.get("references")]
    assert [r["operationName"] for r in roots] == ["POST /v1/cases"], roots
    assert "POST /v1/cases" in operations["gateway"]
    assert any(name.startswith("recouvra.intake.v1.") for name in operations["intake"])
    assert any(name.endswith(".case-submitted.v1 process") for name in operations["scoring"])
    assert any(name.endswith(" process") for name in operations["matching"])
    # The gateway's log line of the request carries the same trace id.
    lines = [json.loads(line) for line in market.gateway.log_text().splitlines() if line[:1] == "{"]
    (request_line,) = [line for line in lines if '"POST /v1/cases' in line["msg"]]
    assert request_line["trace_id"] == trace["traceID"]
