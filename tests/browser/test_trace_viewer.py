"""The local trace viewer (deploy/local/jaeger/ui/, served by Jaeger at `/`) in Debian's
Chromium: a developer finds a case's trace by its tag and follows it across the services in one
waterfall, opens a span's attributes, shares the search as a link and opens a trace by its id.

Jaeger is the stack's own binary (built by `deploy/local/stack.sh install`) run with this
clone's `deploy/local/jaeger/config.yaml` and viewer, on free ports of its own: the shared
stack's Jaeger keeps the configuration it was started with, and a test must see this clone's.
The services run on the real stack (Kafka, PostgreSQL) and export their spans to it over OTLP.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser.pages import Watched, checked, launch
from tests.e2e.test_traces import a_case_submitted_over_rest, missing_hops
from tests.support.fixtures import ServiceProcess
from tests.support.marketplace import eventually
from tests.support.stack import ROOT, Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

JAEGER_MODULE = ROOT / "deploy" / "local" / "jaeger"
SETTLED = 5.0  # seconds without a new span before a trace counts as whole (export: 200 ms)


def jaeger_binary() -> Path:
    """The Jaeger `deploy/local/stack.sh install` built, at the version jaeger/go.mod pins."""
    version = re.search(
        r"github\.com/jaegertracing/jaeger v(\S+)", (JAEGER_MODULE / "go.mod").read_text()
    )
    assert version, "deploy/local/jaeger/go.mod pins no github.com/jaegertracing/jaeger"
    cache = Path(os.environ.get("RECOUVRA_CACHE", Path.home() / ".cache" / "recouvra"))
    binary = cache / f"jaeger-{version[1]}" / "jaeger"
    assert binary.exists(), f"{binary} is missing: `deploy/local/stack.sh install jaeger`"
    return binary


@dataclass
class Jaeger:
    url: str  # the viewer and its query API
    otlp: str  # where services send spans (OTLP/HTTP)


@contextmanager
def own_jaeger(work: Path) -> Iterator[Jaeger]:
    """Jaeger with this clone's configuration and viewer, stopped at the end."""
    ports = {
        name: str(free_port())
        for name in ("QUERY", "QUERY_GRPC", "HEALTH", "OTLP_HTTP", "OTLP_GRPC")
    }
    env = {f"JAEGER_{name}_PORT": port for name, port in ports.items()}
    env |= {"JAEGER_HOST": "127.0.0.1", "JAEGER_UI_ASSETS": str(JAEGER_MODULE / "ui")}
    log = (work / "jaeger.log").open("wb")
    process = subprocess.Popen(
        [str(jaeger_binary()), "--config", str(JAEGER_MODULE / "config.yaml")],
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    jaeger = Jaeger(f"http://127.0.0.1:{ports['QUERY']}", f"http://127.0.0.1:{ports['OTLP_HTTP']}")
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (work / "jaeger.log").read_text()
            try:
                if httpx.get(f"{jaeger.url}/api/services", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "Jaeger did not answer within 60 s"
            time.sleep(0.2)
        yield jaeger
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@asynccontextmanager
async def chromium() -> AsyncIterator[tuple[Browser, Page, Watched]]:
    """Debian's Chromium, a page of it, and that page's CSP watch; closed at the end."""
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            yield browser, page, Watched(page)
        finally:
            await browser.close()


@pytest.fixture
def jaeger(tmp_path: Path) -> Iterator[Jaeger]:
    with own_jaeger(tmp_path) as running:
        yield running


async def the_case_traced(
    jaeger: Jaeger,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> tuple[str, dict[str, Any]]:
    """A case submitted over REST to the four services tracing to `jaeger`; its id and its
    trace as Jaeger's API answers it once every hop from REST to matching has arrived and no
    span has come for `SETTLED` seconds: spans that end later than the hops (a relay's
    publish, matching's own events) still arrive after them, one batch at a time."""
    _, case_id = await a_case_submitted_over_rest(
        "browser_traces", jaeger.otlp, make_database, run_service, tmp_path
    )

    async with httpx.AsyncClient(base_url=jaeger.url, timeout=10) as query:
        last_seen: dict[str, Any] = {"spans": -1, "since": time.monotonic()}

        async def settled_trace() -> dict[str, Any] | None:
            answer = await query.get(
                "/api/traces",
                params={"service": "matching", "tags": json.dumps({"case.id": case_id})},
            )
            traces = answer.json()["data"] or [] if answer.status_code == 200 else []
            whole = next((t for t in traces if not missing_hops(t)), None)
            if whole is None:
                return None
            if len(whole["spans"]) != last_seen["spans"]:
                last_seen.update(spans=len(whole["spans"]), since=time.monotonic())
                return None
            return whole if time.monotonic() - last_seen["since"] >= SETTLED else None

        trace = await eventually(settled_trace, "Jaeger holds the whole case, settled", 120)
    return case_id, trace


async def waterfall_services(page: Page) -> list[str]:
    return await page.locator("#spans > li").evaluate_all(
        "rows => rows.map(r => r.dataset.service)"
    )


async def test_a_developer_finds_a_case_by_its_tag_and_follows_it_across_services(
    stack: Stack,
    jaeger: Jaeger,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    case_id, trace = await the_case_traced(jaeger, make_database, run_service, tmp_path)
    trace_id = trace["traceID"]

    async with chromium() as (browser, page, watched):
        await page.goto(f"{jaeger.url}/")
        service = page.get_by_label("Service", exact=True)
        await expect(service.locator("option", has_text="matching")).to_have_count(1)
        await checked(watched, "traces-search")

        # A tag without a value is refused beside the field; nothing is searched.
        await service.select_option("matching")
        await page.get_by_label("Tags").fill("case.id")
        await page.get_by_role("button", name="Find traces").click()
        await expect(page.locator("#tags-error")).to_have_text(
            re.compile(r"^Tags: .*case\.id.*key=value")
        )
        await expect(page.get_by_label("Tags")).to_have_attribute("aria-invalid", "true")
        assert "tags=" not in page.url

        # The case's tag finds its one trace, from the creditor's request to matching.
        await page.get_by_label("Tags").fill(f"case.id={case_id}")
        await page.get_by_label("Lookback").select_option("1h")
        await page.get_by_label("Limit").fill("10")
        await page.get_by_role("button", name="Find traces").click()
        await expect(page).to_have_url(re.compile(r"[?&]service=matching(&|$)"))
        await expect(page.locator("#status")).to_have_text(re.compile(r"^1 trace found"))
        rows = page.locator("#results-table tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.get_by_role("link")).to_have_text("gateway: POST /v1/cases")
        for name in ("gateway", "intake", "scoring", "matching"):
            await expect(
                rows.locator(".chip", has_text=re.compile(rf"^{name} \(\d+\)$"))
            ).to_have_count(1)
        await expect(rows.locator("td").nth(2)).to_have_text(str(len(trace["spans"])))
        await expect(rows.locator("td").nth(3)).to_have_text("0")
        search_url = page.url
        await checked(watched, "traces-found")

        # The trace as one waterfall: every span, the request first, each under its parent.
        await rows.get_by_role("link").click()
        await expect(page).to_have_url(re.compile(rf"/trace/{trace_id}\?"))
        await expect(page.get_by_role("heading", level=2)).to_have_text("gateway: POST /v1/cases")
        spans = page.locator("#spans > li")
        await expect(spans).to_have_count(len(trace["spans"]))
        services = await waterfall_services(page)
        assert services[0] == "gateway"
        assert {"gateway", "intake", "scoring", "matching"} <= set(services), services
        first = page.locator("#spans .span-label").first
        await expect(first).to_contain_text("POST /v1/cases")
        # Matching's handling of the score sits deeper than the request that began it.
        matching_row = page.locator(
            "#spans > li[data-service=matching] .span-label",
            has_text="scoring.case-scored.v1 process",
        )
        await expect(matching_row).to_have_count(1)
        indents = [
            await button.evaluate("b => parseFloat(getComputedStyle(b).paddingLeft)")
            for button in (first, matching_row)
        ]
        assert indents[1] > indents[0], indents

        # A span's attributes, opened from the keyboard: the case id is among them.
        await matching_row.focus()
        await page.keyboard.press("Enter")
        await expect(matching_row).to_have_attribute("aria-expanded", "true")
        details = page.locator("#" + (await matching_row.get_attribute("aria-controls") or ""))
        await expect(details).to_be_visible()
        await expect(
            details.locator("tr", has=page.locator("th", has_text=re.compile(r"^case\.id$")))
        ).to_contain_text(case_id)
        await expect(details).to_contain_text("Events (")
        await expect(details).to_contain_text("Links (")
        await page.keyboard.press("Home")
        await expect(first).to_be_focused()
        await page.keyboard.press("ArrowDown")
        await expect(page.locator("#spans .span-label").nth(1)).to_be_focused()
        await checked(watched, "trace-waterfall")

        # Back to the search, which the URL kept.
        await page.get_by_role("link", name="Back to the search").click()
        await expect(page).to_have_url(search_url)
        await expect(page.locator("#results-table tbody tr")).to_have_count(1)

        # The search shared as a link: a new page opens on the same result.
        shared = await browser.new_page()
        await shared.goto(search_url)
        await expect(shared.get_by_label("Tags")).to_have_value(f"case.id={case_id}")
        await expect(shared.locator("#results-table tbody tr a")).to_have_attribute(
            "href", re.compile(rf"^/trace/{trace_id}\?")
        )

        # A trace id typed in opens it; a malformed one is refused beside the field.
        await page.goto(f"{jaeger.url}/")
        await page.get_by_label("Trace id").fill("not-a-trace")
        await page.get_by_role("button", name="Open trace").click()
        await expect(page.locator("#trace-id-error")).to_have_text(
            re.compile(r"^Trace id: up to 32 hexadecimal digits")
        )
        await page.get_by_label("Trace id").fill(f" {trace_id.upper()} ")
        await page.get_by_role("button", name="Open trace").click()
        await expect(page).to_have_url(re.compile(rf"/trace/{trace_id}\?"))
        await expect(page.locator("#spans > li")).to_have_count(len(trace["spans"]))


def otlp_attribute(key: str, value: str) -> dict[str, Any]:
    return {"key": key, "value": {"stringValue": value}}


def a_failing_trace(service: str, now_ns: int) -> tuple[str, str, dict[str, Any]]:
    """An OTLP/JSON export of four spans: a request to `service`'s front, a worker handling it
    (linked to a span of another trace), a statement of the worker that failed with an
    exception event, and a span whose parent never arrived. Its trace id, the linked trace's id,
    and the body to POST to /v1/traces."""
    trace_id, other_trace = uuid.uuid4().hex, uuid.uuid4().hex
    root, worker, failing, other_span, orphan, lost = (uuid.uuid4().hex[:16] for _ in range(6))

    def span(span_id: str, parent: str, name: str, ms: tuple[int, int], **extra: Any) -> Any:
        return {
            "traceId": trace_id,
            "spanId": span_id,
            "parentSpanId": parent,
            "name": name,
            "kind": 2,
            "startTimeUnixNano": str(now_ns + ms[0] * 1_000_000),
            "endTimeUnixNano": str(now_ns + ms[1] * 1_000_000),
            **extra,
        }

    def resource(name: str, *spans: Any) -> Any:
        return {
            "resource": {"attributes": [otlp_attribute("service.name", name)]},
            "scopeSpans": [{"scope": {"name": "test"}, "spans": list(spans)}],
        }

    body = {
        "resourceSpans": [
            resource(f"{service}-front", span(root, "", "POST /v1/things", (0, 120))),
            resource(
                f"{service}-worker",
                span(
                    worker,
                    root,
                    "things process",
                    (20, 100),
                    links=[{"traceId": other_trace, "spanId": other_span}],
                ),
                span(
                    failing,
                    worker,
                    "UPDATE things",
                    (40, 90),
                    status={"code": 2, "message": "the row is locked"},
                    events=[
                        {
                            "timeUnixNano": str(now_ns + 85_000_000),
                            "name": "exception",
                            "attributes": [otlp_attribute("exception.message", "lock timeout")],
                        }
                    ],
                ),
                span(orphan, lost, "things retry", (100, 110)),
            ),
        ]
    }
    return trace_id, other_trace, body


async def test_a_failed_span_is_marked_and_shows_its_status_events_and_links(
    jaeger: Jaeger,
) -> None:
    service = f"viewer{uuid.uuid4().hex[:6]}"
    trace_id, other_trace, body = a_failing_trace(service, time.time_ns())
    async with httpx.AsyncClient(timeout=10) as client:
        sent = await client.post(f"{jaeger.otlp}/v1/traces", json=body)
        assert sent.status_code == 200, sent.text

        async def stored() -> bool | None:
            answer = await client.get(f"{jaeger.url}/api/traces/{trace_id}")
            return (
                answer.status_code == 200 and len(answer.json()["data"][0]["spans"]) == 4
            ) or None

        await eventually(stored, "Jaeger holds the four spans", 30)

    async with chromium() as (_, page, watched):
        # The operations offered are those of the service chosen.
        await page.goto(f"{jaeger.url}/")
        await page.get_by_label("Service", exact=True).select_option(f"{service}-worker")
        operations = page.get_by_label("Operation").locator("option")
        await expect(operations).to_have_text(
            ["All operations", "UPDATE things", "things process", "things retry"]
        )

        await page.goto(f"{jaeger.url}/?service={service}-worker&lookback=15m&limit=5")
        row = page.locator("#results-table tbody tr")
        await expect(row).to_have_count(1)
        await expect(row.get_by_role("link")).to_have_text(f"{service}-front: POST /v1/things")
        await expect(row.locator("td").nth(2)).to_have_text("4")
        await expect(row.locator("td").nth(3)).to_have_text("1")
        await expect(row.locator("td").nth(4)).to_have_text("120 ms")

        await row.get_by_role("link").click()
        failed = page.locator("#spans > li.has-error")
        await expect(failed).to_have_count(1)
        label = failed.locator(".span-label")
        await expect(label).to_have_text(f"{service}-worker UPDATE things error")
        await label.click()
        details = failed.locator(".details")
        await expect(details).to_contain_text("error: the row is locked")
        await expect(details).to_contain_text("Events (1)")
        await expect(details.locator("table", has_text="exception")).to_contain_text("lock timeout")
        await expect(details).to_contain_text("+85 ms exception")
        await expect(details).to_contain_text("No links.")

        # A span whose parent never reached Jaeger is shown at the top level, and says so.
        retry = page.locator("#spans .span-label", has_text="things retry")
        await expect(retry).to_have_text(f"{service}-worker things retry parent missing")

        worker = page.locator(
            "#spans > li", has=page.locator(".span-label", has_text="things process")
        )
        await worker.locator(".span-label").click()
        await expect(worker.locator(".details")).to_contain_text("Links (1)")
        link = worker.locator(".details").get_by_role("link")
        await expect(link).to_have_attribute("href", f"/trace/{other_trace}")
        await expect(link).to_have_text(re.compile(rf"of trace {other_trace}$"))
        await checked(watched, "trace-failed-span")

        # A trace Jaeger does not hold: Jaeger's answer, said plainly, and no waterfall.
        unknown = uuid.uuid4().hex
        await page.goto(f"{jaeger.url}/trace/{unknown}")
        await expect(page.locator("#status")).to_have_text(
            re.compile(r"^Jaeger answered 404: .*not found", re.IGNORECASE)
        )
        await expect(page.locator("#trace")).to_be_hidden()
