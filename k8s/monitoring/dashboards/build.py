"""Write the Grafana dashboards of this folder: one per service and one for the marketplace.

    python3 k8s/monitoring/dashboards/build.py      (rewrites the *.json beside it)

The JSON is what an operator imports (Grafana 10+, or Perses through its Grafana migration).
Every expression names metrics the services export (recouvra_shared.metrics and each service's
adapters/metrics_readings.py) or the recording rules of ../prometheus-rules.yml:
tests/contracts/test_dashboards.py checks that, and that the files are what this script writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SERVICES = ("gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

Panel = dict[str, Any]


def panel(title: str, unit: str, *targets: tuple[str, str], description: str = "") -> Panel:
    """A time series of one or more (expression, legend) pairs."""
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def row(title: str) -> Panel:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def layout(panels: list[Panel]) -> list[Panel]:
    """Two panels a line, rows across; ids and positions in order."""
    x = y = 0
    for number, item in enumerate(panels, start=1):
        item["id"] = number
        if item["type"] == "row":
            if x:
                x, y = 0, y + 8
            item["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
            continue
        item["gridPos"] = {"h": 8, "w": 12, "x": x, "y": y}
        x, y = (12, y) if x == 0 else (0, y + 8)
    return panels


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["recouvra"],
        "timezone": "utc",
        "schemaVersion": 39,
        "time": {"from": "now-6h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Prometheus",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                }
            ]
        },
        "panels": layout(panels),
    }


def requests(job: str) -> list[Panel]:
    s = f'job="{job}"'
    panels = [
        row("Requests"),
        panel(
            "gRPC calls per method",
            "reqps",
            (
                f"sum by (grpc_method) (rate(recouvra_grpc_server_handled_total{{{s}}}[5m]))",
                "{{grpc_method}}",
            ),
        ),
        panel(
            "gRPC server faults",
            "percentunit",
            (f"job:recouvra_grpc_errors:ratio_rate5m{{{s}}}", "server faults"),
            description="UNKNOWN, INTERNAL, UNAVAILABLE... over all calls; refusals do not count."
            " Alert RecouvraGrpcErrors above 5 %.",
        ),
        panel(
            "gRPC p99 latency per method",
            "s",
            (f"job_method:recouvra_grpc_latency_seconds:p99_5m{{{s}}}", "{{grpc_method}}"),
        ),
        panel(
            "gRPC calls within 250 ms",
            "percentunit",
            (f"job:recouvra_grpc_within_250ms:ratio_rate5m{{{s}}}", "within 250 ms"),
            description="Objective: 99 % (alert RecouvraGrpcLatencyObjective).",
        ),
    ]
    if job == "gateway":
        panels += [
            panel(
                "HTTP requests per route",
                "reqps",
                (
                    f"sum by (route, method) (rate(recouvra_http_requests_total{{{s}}}[5m]))",
                    "{{method}} {{route}}",
                ),
            ),
            panel(
                "HTTP 5xx ratio",
                "percentunit",
                (f"job:recouvra_http_errors:ratio_rate5m{{{s}}}", "5xx"),
            ),
            panel(
                "HTTP p99 latency per route",
                "s",
                (f"job_route:recouvra_http_latency_seconds:p99_5m{{{s}}}", "{{route}}"),
            ),
            panel(
                "HTTP requests within 1 s",
                "percentunit",
                (f"job:recouvra_http_within_1s:ratio_rate5m{{{s}}}", "within 1 s"),
                description="Objective: 95 % (alert RecouvraHttpLatencyObjective).",
            ),
        ]
    return panels


def plumbing(job: str) -> list[Panel]:
    s = f'job="{job}"'
    return [
        row("Kafka, outbox, dead letters"),
        panel(
            "Consumer lag per group and topic",
            "short",
            (f"job_group_topic:recouvra_kafka_consumer_lag:sum{{{s}}}", "{{group}} {{topic}}"),
            description="Empty for a service that consumes nothing.",
        ),
        panel(
            "Oldest unhandled event",
            "s",
            (
                f"job_group_topic:recouvra_kafka_consumer_oldest_unhandled_age_seconds:max{{{s}}}",
                "{{group}} {{topic}}",
            ),
            description="Alert RecouvraConsumerStuck above 10 min.",
        ),
        panel(
            "Outbox backlog and oldest unsent row",
            "short",
            (f"recouvra_outbox_backlog{{{s}}}", "rows waiting"),
            (f"recouvra_outbox_oldest_unsent_age_seconds{{{s}}}", "oldest (s)"),
            description="Alert RecouvraOutboxNotDraining when the oldest waits over 2 min.",
        ),
        panel(
            "Published per topic",
            "ops",
            (f"job_topic:recouvra_outbox_published:rate5m{{{s}}}", "{{topic}}"),
            (
                f"sum by (topic) (rate(recouvra_outbox_moved_aside_total{{{s}}}[5m]))",
                "moved aside {{topic}}",
            ),
        ),
        panel(
            "Dead letters",
            "short",
            (
                f"sum by (topic) (increase(recouvra_dead_letters_total{{{s}}}[1h]))",
                "written in 1 h: {{topic}}",
            ),
            (f"recouvra_dead_letters_recorded{{{s}}}", "recorded: {{topic}}"),
            (f"recouvra_outbox_dead_letters{{{s}}}", "outbox rows moved aside"),
        ),
        panel(
            "Database pool",
            "short",
            (f"recouvra_db_pool_connections{{{s}}}", "{{pool}}: {{state}}"),
            (f"recouvra_db_pool_size{{{s}}}", "{{pool}}: size"),
        ),
        panel(
            "Up",
            "short",
            (f"up{{{s}}}", "{{instance}}"),
            description="Prometheus's own: 0 when a scrape fails (alert RecouvraServiceDown).",
        ),
        panel(
            "Facts committed per topic",
            "ops",
            (f"sum by (topic) (rate(recouvra_events_committed_total{{{s}}}[5m]))", "{{topic}}"),
        ),
    ]


def own(job: str) -> list[Panel]:
    """What only this service counts."""
    s = f'job="{job}"'
    per_hour = {
        "intake": ("Cases submitted", "recouvra_cases_submitted_total"),
        "scoring": ("Cases scored", "recouvra_cases_scored_total"),
    }
    if job in per_hour:
        title, metric = per_hour[job]
        return [
            row("Business"),
            panel(f"{title} per hour", "short", (f"sum(increase({metric}{{{s}}}[1h]))", title)),
        ]
    if job == "matching":
        return [
            row("Business"),
            panel(
                "Quotes and awards per hour",
                "short",
                (f"sum(increase(recouvra_cases_quoted_total{{{s}}}[1h]))", "quotes issued"),
                (f"sum(increase(recouvra_cases_awarded_total{{{s}}}[1h]))", "cases awarded"),
            ),
        ]
    if job == "messaging":
        return [
            row("Messages"),
            panel(
                "Messages per channel",
                "short",
                (
                    f"sum by (channel) (increase(recouvra_messages_sent_total{{{s}}}[1h]))",
                    "sent in 1 h: {{channel}}",
                ),
                (
                    f"sum by (channel) (increase(recouvra_messages_not_sent_total{{{s}}}[1h]))",
                    "not sent in 1 h: {{channel}}",
                ),
                (f"sum by (channel) (recouvra_messages_pending{{{s}}})", "pending: {{channel}}"),
            ),
            panel(
                "Waiting and postponed",
                "short",
                (f"max(recouvra_messages_pending_oldest_age_seconds{{{s}}})", "oldest pending (s)"),
                (
                    f"sum(increase(recouvra_messages_postponed_total{{{s}}}[1h]))",
                    "steps postponed in 1 h",
                ),
            ),
        ]
    if job == "settlement":
        return [
            row("Money"),
            panel(
                "Money received per day",
                "short",
                (
                    "sum by (currency) ("
                    f"increase(recouvra_recovered_amount_minor_total{{{s}}}[1d])) / 100",
                    "{{currency}}",
                ),
            ),
            panel(
                "Creditor funds held",
                "short",
                (f"max(recouvra_creditor_funds_held_minor{{{s}}}) / 100", "held (EUR)"),
                (f"max(recouvra_creditors_with_funds_overdue{{{s}}})", "creditors overdue"),
            ),
            panel(
                "Oldest held funds",
                "d",
                (f"max(recouvra_creditor_funds_oldest_held_days{{{s}}})", "oldest (days)"),
                (f"max(recouvra_creditor_funds_held_warning_days{{{s}}})", "warning age"),
                description="R124-6: one month at most (alert RecouvraCreditorFundsNearMonthLimit"
                " at 26 days).",
            ),
            panel(
                "Payouts waiting",
                "short",
                (f"max(recouvra_payouts_pending_batches{{{s}}})", "batches"),
                (f"max(recouvra_payouts_pending_amount_minor{{{s}}}) / 100", "amount"),
                (
                    f"max(recouvra_payouts_pending_oldest_age_seconds{{{s}}}) / 86400",
                    "oldest (days)",
                ),
            ),
        ]
    return []


def service_dashboard(job: str) -> dict[str, Any]:
    return dashboard(
        f"recouvra-{job}",
        f"Recouvra / {job}",
        f"{job}: requests, Kafka, outbox, dead letters, database pool"
        " (docs/operations.md says what each alert means).",
        [*requests(job), *plumbing(job), *own(job)],
    )


def marketplace_dashboard() -> dict[str, Any]:
    return dashboard(
        "recouvra-marketplace",
        "Recouvra / marketplace",
        "Flow of cases, money recovered and what providers do with their cases. No metric names"
        " a provider (per-provider figures are in settlement's statements, not in metrics).",
        [
            row("Flow of cases"),
            panel(
                "Cases per hour",
                "short",
                ("recouvra:cases_submitted:rate1h * 3600", "submitted"),
                ("recouvra:cases_scored:rate1h * 3600", "scored"),
                ("recouvra:cases_quoted:rate1h * 3600", "quoted"),
                ("recouvra:cases_awarded:rate1h * 3600", "awarded"),
            ),
            panel(
                "Cases awarded per case submitted (1 d)",
                "percentunit",
                (
                    "sum(increase(recouvra_cases_awarded_total[1d]))"
                    " / sum(increase(recouvra_cases_submitted_total[1d]))",
                    "awarded / submitted",
                ),
                description="Awards count every round (a rotated case is awarded again).",
            ),
            row("Money recovered"),
            panel(
                "Recovered per day",
                "short",
                ("currency:recouvra_recovered_amount_minor:increase1d / 100", "{{currency}}"),
            ),
            panel(
                "Creditor funds held and payouts waiting",
                "short",
                ("max(recouvra_creditor_funds_held_minor) / 100", "held"),
                ("max(recouvra_payouts_pending_amount_minor) / 100", "in payout batches"),
            ),
            row("Provider performance"),
            panel(
                "Recovered per case awarded (7 d)",
                "short",
                (
                    "sum(increase(recouvra_recovered_amount_minor_total[7d])) / 100"
                    " / sum(increase(recouvra_cases_awarded_total[7d]))",
                    "per award",
                ),
            ),
            panel(
                "Debtor contacts per day",
                "short",
                ("channel:recouvra_messages_sent:increase1d", "sent: {{channel}}"),
                (
                    "sum by (channel) (increase(recouvra_messages_not_sent_total[1d]))",
                    "not sent: {{channel}}",
                ),
            ),
            panel(
                "Marketplace health",
                "short",
                ("sum by (job) (job_group_topic:recouvra_kafka_consumer_lag:sum)", "lag {{job}}"),
                (
                    "max by (job) (recouvra_outbox_oldest_unsent_age_seconds)",
                    "outbox oldest (s) {{job}}",
                ),
                ("sum by (job) (recouvra_dead_letters_recorded)", "dead letters {{job}}"),
            ),
        ],
    )


def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard."""
    out = {f"{job}.json": service_dashboard(job) for job in SERVICES}
    out["marketplace.json"] = marketplace_dashboard()
    return out


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    for name, board in dashboards().items():
        (HERE / name).write_text(render(board))
        sys.stdout.write(f"{HERE / name}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
