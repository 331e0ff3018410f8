"""The Grafana dashboards (k8s/monitoring/dashboards) show what the services really export.

Every PromQL expression of every dashboard, and of the rules, names only metrics the code
exports: read from prometheus_client's registry once `recouvra_shared.metrics` is imported (what
the code counts), from the sampled readings' names in `recouvra_shared.metrics` and each
service's `adapters/metrics_readings.py` (what it reads from its tables), or a recording rule of
k8s/monitoring/prometheus-rules.yml. A misspelt metric would draw an empty panel at 3 a.m.; here
it fails. The expressions also parse in Prometheus's own parser (`promtool check rules`, the
integration-marked test: promtool comes with the stack's Prometheus)."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import recouvra_shared.metrics

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "k8s" / "monitoring"
DASHBOARDS = MONITORING / "dashboards"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())
# Prometheus's own series, not exported by any service: the scrape's health.
PROMETHEUS_OWN = {"up"}
# The OpenTelemetry Collector's own counters (k8s/base/otel-collector.yaml, job otel-collector),
# as its Prometheus reader names them: the alert on lost spans reads them.
COLLECTOR_OWN = {"otelcol_exporter_send_failed_spans_total", "otelcol_receiver_refused_spans_total"}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
KEYWORDS |= {"and", "or", "unless", "inf", "nan"}


def _counted() -> set[str]:
    """Series names of everything registered by importing recouvra_shared.metrics' modules."""
    for module in pkgutil.iter_modules(recouvra_shared.metrics.__path__):
        importlib.import_module(f"recouvra_shared.metrics.{module.name}")
    names = set()
    for family in REGISTRY.collect():
        names.add(family.name)
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ())}
    return names


def _read() -> set[str]:
    """Names of the sampled readings: the `recouvra_*` string constants of the modules that
    define them. A reading may be a counter, so its `_total` series counts too."""
    files = [*Path(recouvra_shared.metrics.__path__[0]).glob("*.py")]
    files += ROOT.glob("services/*/src/*/adapters/metrics_readings.py")
    names = {
        node.value
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"recouvra_[a-z0-9_]+", node.value)
    }
    return names | {name + "_total" for name in names}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((MONITORING / "prometheus-rules.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def known_metrics() -> set[str]:
    recorded = {rule["record"] for rule in _rules() if "record" in rule}
    return _counted() | _read() | recorded | PROMETHEUS_OWN | COLLECTOR_OWN


def metrics_named(expr: str) -> set[str]:
    """The metric names of a PromQL expression: identifiers that are not functions, aggregations,
    keywords, label names (in `{}` or `by (...)`) or durations."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    found = re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()", text)
    return {m.group(1) for m in found if m.group(1).lower() not in KEYWORDS}


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in panels:
        yield item
        yield from _panels(item.get("panels", []))


def dashboard_expressions() -> list[tuple[str, str]]:
    """(where, expression) for every target of every dashboard."""
    return [
        (f"{path.name}: {item['title']}", target["expr"])
        for path in sorted(DASHBOARDS.glob("*.json"))
        for item in _panels(json.loads(path.read_text())["panels"])
        for target in item.get("targets", [])
    ]


def unknown_metrics(expressions: list[tuple[str, str]]) -> list[str]:
    known = known_metrics()
    problems = []
    for where, expr in expressions:
        named = metrics_named(expr)
        if not named:
            problems.append(f"{where}: names no metric: {expr}")
        problems += [f"{where}: {name} is exported by no service" for name in named - known]
    return problems


def test_there_is_a_dashboard_per_service_and_one_for_the_marketplace() -> None:
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS.glob("*.json")}
    assert titles == {f"Recouvra / {s}" for s in [*SERVICES, "marketplace"]}
    uids = [json.loads(p.read_text())["uid"] for p in DASHBOARDS.glob("*.json")]
    assert len(set(uids)) == len(uids)


def test_the_dashboards_are_what_their_script_writes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("dashboards_build", DASHBOARDS / "build.py")
    assert spec
    assert spec.loader
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, board in build.dashboards().items():
        stale = (DASHBOARDS / name).read_text() != build.render(board)
        assert not stale, f"{name}: run python3 k8s/monitoring/dashboards/build.py"


def test_every_dashboard_expression_names_metrics_the_services_export() -> None:
    expressions = dashboard_expressions()
    assert len(expressions) > 100
    assert unknown_metrics(expressions) == []


def test_every_rule_names_metrics_the_services_export() -> None:
    rules = [(rule.get("record") or rule["alert"], rule["expr"]) for rule in _rules()]
    assert unknown_metrics(rules) == []


def test_a_misspelt_metric_or_a_label_taken_for_one_is_caught() -> None:
    good = 'sum by (grpc_method) (rate(recouvra_grpc_server_handled_total{job="intake"}[5m]))'
    assert metrics_named(good) == {"recouvra_grpc_server_handled_total"}
    misspelt = good.replace("handled", "handeld")
    assert unknown_metrics([("x", misspelt)]) == [
        "x: recouvra_grpc_server_handeld_total is exported by no service"
    ]
    # A gauge has no _total series; a histogram's buckets exist, a counter's do not.
    assert unknown_metrics([("x", "recouvra_outbox_backlog_bucket")])
    assert unknown_metrics([("x", "recouvra_grpc_server_handled_bucket")])
    assert not unknown_metrics([("x", "recouvra_grpc_server_handling_seconds_bucket")])
    assert unknown_metrics([("x", "sum(rate(recouvra_cases_submited_total[1h]))")])


@pytest.mark.integration
def test_every_dashboard_expression_parses_in_prometheus(tmp_path: Path) -> None:
    tool = shutil.which("promtool")
    assert tool, "promtool is installed with Prometheus by `deploy/local/stack.sh install`"

    def check(expressions: list[tuple[str, str]]) -> subprocess.CompletedProcess[str]:
        rules = [
            {"record": f"dashboard:expression_{n}:check", "expr": expr}
            for n, (_, expr) in enumerate(expressions)
        ]
        path = tmp_path / "dashboards.rules.yml"
        path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
        return subprocess.run(
            [tool, "check", "rules", str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    expressions = dashboard_expressions()
    checked = check(expressions)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{len(expressions)} rules found" in checked.stdout
    broken = check([("x", "sum by (job) (rate(recouvra_grpc_server_handled_total[5m])")])
    assert broken.returncode != 0
