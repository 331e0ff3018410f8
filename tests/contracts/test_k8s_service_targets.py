"""In Kubernetes every service reaches the services it calls: each `<peer>_target` setting of a
service is set in its Deployment to the peer's headless Service and gRPC port (the default,
127.0.0.1, answers nothing in a pod), the caller's network policy lets it out to that port and
the peer's lets it in."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from recouvra_shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
POLICIES = K8S / "components" / "network-policies"
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def _settings(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"{service}.config")
    (settings,) = (
        v
        for v in vars(module).values()
        if isinstance(v, type) and issubclass(v, ServiceSettings) and v is not ServiceSettings
    )
    return settings


def _env(service: str) -> dict[str, Any]:
    documents = yaml.safe_load_all((K8S / "base" / f"{service}.yaml").read_text())
    deployment = next(d for d in documents if d and d["kind"] == "Deployment")
    (container,) = (
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == service
    )
    return {e["name"]: e.get("value") for e in container["env"]}


def _policy(service: str) -> dict[str, Any]:
    policy = yaml.safe_load((POLICIES / f"network-policy-{service}.yaml").read_text())
    return dict(policy["spec"])


def _allows(rules: list[dict[str, Any]], side: str, app: str, port: int) -> bool:
    return any(
        any(p.get("podSelector", {}).get("matchLabels", {}).get("app") == app for p in rule[side])
        and any(p["port"] == port for p in rule.get("ports", []))
        for rule in rules
    )


CALLS = [
    (service, field.removesuffix("_target"))
    for service in SERVICES
    for field in _settings(service).model_fields
    if field.endswith("_target")
]


def test_the_callers_are_known() -> None:
    # Guards the parametrisation below against finding nothing.
    assert ("gateway", "intake") in CALLS
    assert ("messaging", "settlement") in CALLS


@pytest.mark.parametrize(("service", "peer"), CALLS, ids=[f"{s}->{p}" for s, p in CALLS])
def test_a_service_reaches_each_peer_it_calls(service: str, peer: str) -> None:
    port = int(_env(peer)[f"RECOUVRA_{peer.upper()}_GRPC_PORT"])
    variable = f"RECOUVRA_{service.upper()}_{peer.upper()}_TARGET"
    assert _env(service).get(variable) == f"dns:///{peer}-pods:{port}", (
        f"{service}: {variable} does not name {peer}'s pods"
    )
    assert _allows(_policy(service)["egress"], "to", peer, port), (
        f"{service}'s network policy does not let it call {peer}"
    )
    assert _allows(_policy(peer)["ingress"], "from", service, port), (
        f"{peer}'s network policy does not let {service} in"
    )
