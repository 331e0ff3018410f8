"""Prometheus can scrape every service in Kubernetes: each Deployment serves its metrics on the
port it names `metrics`, on all interfaces; the PodMonitor scrapes that port name with the
service's name as job (the rules group by job); the network policies let the `monitoring`
namespace reach it, and nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _container(service: str) -> dict[str, Any]:
    deployment = next(
        d for d in _docs(K8S / "base" / f"{service}.yaml") if d["kind"] == "Deployment"
    )
    containers = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == service)


def _metrics_port(service: str) -> int:
    container = _container(service)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    prefix = f"RECOUVRA_{service.upper()}_METRICS_"
    assert "metrics" in ports, f"{service}: no container port named metrics"
    assert env.get(prefix + "PORT") == str(ports["metrics"]), f"{service}: serves metrics elsewhere"
    assert env.get(prefix + "HOST") == "0.0.0.0", f"{service}: metrics on the loopback only"
    return int(ports["metrics"])


def test_every_service_serves_metrics_on_its_named_port() -> None:
    assert len(SERVICES) == 7
    assert {_metrics_port(service) for service in SERVICES} == {9102}


def test_the_pod_monitor_scrapes_every_service_as_its_own_job() -> None:
    (monitor,) = _docs(K8S / "components" / "monitoring" / "pod-monitor.yaml")
    spec = monitor["spec"]
    assert spec["jobLabel"] == "app"
    (selected,) = spec["selector"]["matchExpressions"]
    assert sorted(selected["values"]) == SERVICES
    assert [e["port"] for e in spec["podMetricsEndpoints"]] == ["metrics"]
    for service in SERVICES:
        deployment = next(
            d for d in _docs(K8S / "base" / f"{service}.yaml") if d["kind"] == "Deployment"
        )
        assert deployment["spec"]["template"]["metadata"]["labels"]["app"] == service
    production = yaml.safe_load(
        (K8S / "overlays" / "production" / "kustomization.yaml").read_text()
    )
    assert "../../components/monitoring" in production["components"]


def test_only_the_monitoring_namespace_may_reach_the_metrics_port() -> None:
    folder = K8S / "components" / "network-policies"
    listed = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    policies = [d for name in listed for d in _docs(folder / name)]
    admitting = [
        (rule, p["metadata"]["name"])
        for p in policies
        for rule in p["spec"].get("ingress", [])
        if any(port.get("port") == 9102 for port in rule.get("ports", []))
    ]
    assert admitting, "no policy admits Prometheus to port 9102"
    for rule, name in admitting:
        assert rule["from"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
        ], name
