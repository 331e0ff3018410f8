"""In Kubernetes every service's spans reach the trace backend: each service is told to export
to the namespace's OpenTelemetry Collector, the network policies let exactly the services in and
the collector out to the backend, the collector's pipeline receives OTLP, protects its memory,
batches and sends to the backend the overlay names; and it runs as the other pods do."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
POLICIES = K8S / "components" / "network-policies"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def _docs(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _kind(path: Path, kind: str, name: str) -> dict[str, Any]:
    (found,) = (d for d in _docs(path) if d["kind"] == kind and d["metadata"]["name"] == name)
    return found


def _literals(kustomization: dict[str, Any], name: str) -> dict[str, str]:
    (generator,) = (g for g in kustomization["configMapGenerator"] if g["name"] == name)
    return dict(literal.split("=", 1) for literal in generator.get("literals", []))


BASE = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
COLLECTOR = K8S / "base" / "otel-collector.yaml"


def _collector_port(name: str) -> int:
    service = _kind(COLLECTOR, "Service", "otel-collector")
    (port,) = (p["port"] for p in service["spec"]["ports"] if p["name"] == name)
    return int(port)


def _policy(name: str) -> dict[str, Any]:
    return _kind(POLICIES / "network-policy-otel-collector.yaml", "NetworkPolicy", name)


def test_every_service_exports_its_spans_to_the_collector() -> None:
    endpoint = urlsplit(_literals(BASE, "recouvra-config")["OTEL_EXPORTER_OTLP_ENDPOINT"])
    assert (endpoint.scheme, endpoint.hostname) == ("http", "otel-collector")
    assert endpoint.port == _collector_port("otlp-http")
    for service in SERVICES:
        deployment = _kind(K8S / "base" / f"{service}.yaml", "Deployment", service)
        (container,) = (
            c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service
        )
        assert {"configMapRef": {"name": "recouvra-config"}} in container["envFrom"], service


def test_exactly_the_services_reach_the_collector_and_it_reaches_the_backend() -> None:
    port = _collector_port("otlp-http")
    policy = _policy("otel-collector")["spec"]
    assert policy["podSelector"] == {"matchLabels": {"app": "otel-collector"}}
    (admitted,) = policy["ingress"]
    (callers,) = admitted["from"]
    (selected,) = callers["podSelector"]["matchExpressions"]
    assert (selected["key"], selected["operator"]) == ("app", "In")
    assert sorted(selected["values"]) == SERVICES
    assert port in [p["port"] for p in admitted["ports"]]
    backend_ports = {p["port"] for rule in policy["egress"] for p in rule["ports"]}
    backend = _literals(BASE, "otel-collector-backend")["TRACES_BACKEND_ENDPOINT"]
    assert int(backend.rsplit(":", 1)[1]) in backend_ports

    export = _policy("otel-export")["spec"]
    (senders,) = export["podSelector"]["matchExpressions"]
    assert sorted(senders["values"]) == SERVICES
    (out,) = export["egress"]
    assert out["to"] == [{"podSelector": {"matchLabels": {"app": "otel-collector"}}}]
    assert [p["port"] for p in out["ports"]] == [port]
    listed = yaml.safe_load((POLICIES / "kustomization.yaml").read_text())["resources"]
    assert "network-policy-otel-collector.yaml" in listed


def test_the_pipeline_receives_otlp_sheds_load_batches_and_sends_to_the_backend() -> None:
    pipeline = yaml.safe_load((K8S / "base" / "otel-collector-pipeline.yaml").read_text())
    traces = pipeline["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    # The memory limiter first, or it protects nothing.
    assert traces["processors"] == ["memory_limiter", "batch"]
    (exporter,) = traces["exporters"]
    sent = pipeline["exporters"][exporter]
    backend = _literals(BASE, "otel-collector-backend")
    assert sent["endpoint"] == "${env:TRACES_BACKEND_ENDPOINT}"
    assert sent["tls"]["insecure"] == "${env:TRACES_BACKEND_INSECURE}"
    assert set(backend) == {"TRACES_BACKEND_ENDPOINT", "TRACES_BACKEND_INSECURE"}
    http = pipeline["receivers"]["otlp"]["protocols"]["http"]["endpoint"]
    assert http == f"0.0.0.0:{_collector_port('otlp-http')}"
    # Its own metrics where Prometheus scrapes every Recouvra pod.
    (reader,) = pipeline["service"]["telemetry"]["metrics"]["readers"]
    assert reader["pull"]["exporter"]["prometheus"]["port"] == 9102


def test_the_collector_runs_pinned_non_root_read_only_one_replica_in_dev_two_in_production() -> (
    None
):
    deployment = _kind(COLLECTOR, "Deployment", "otel-collector")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    image, _, tag = container["image"].partition(":")
    assert image == "otel/opentelemetry-collector-contrib"
    assert tag[:1].isdigit(), f"pin a version: {container['image']}"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert {"configMapRef": {"name": "otel-collector-backend"}} in container["envFrom"]
    pdb = _kind(COLLECTOR, "PodDisruptionBudget", "otel-collector")
    assert pdb["spec"]["selector"]["matchLabels"] == {"app": "otel-collector"}
    for overlay, count in (("dev", 1), ("production", 2)):
        kustomization = yaml.safe_load(
            (K8S / "overlays" / overlay / "kustomization.yaml").read_text()
        )
        replicas = {r["name"]: r["count"] for r in kustomization["replicas"]}
        assert replicas["otel-collector"] == count, overlay
        assert "TRACES_BACKEND_ENDPOINT" in _literals(kustomization, "otel-collector-backend")
