"""Every service has a certificate wherever it runs, naming it as its clients check it.

A client checks the bare service name; a service missing from one of the three places that make
certificates (deploy/local, the tests, cert-manager in k8s) could not be called there, and a
certificate naming more (`localhost`, another service) could pass for a service it is not.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import yaml

from recouvra_shared.pki import service_dns_names
from tests.support.pki import SERVICES as TEST_SERVICES

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "pyproject.toml").exists())


def _k8s(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "k8s" / "base" / name).read_text()) if d]


def test_local_and_test_certificates_cover_every_service() -> None:
    spec = importlib.util.spec_from_file_location(
        "certificates", ROOT / "deploy" / "local" / "certificates.py"
    )
    assert spec is not None
    assert spec.loader is not None
    local = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(local)
    assert sorted(local.SERVICES) == SERVICES
    assert sorted(TEST_SERVICES) == SERVICES


def test_cert_manager_issues_each_service_its_names_for_server_and_client_use() -> None:
    certificates = {
        d["metadata"]["name"]: d["spec"]
        for d in _k8s("certificates.yaml")
        if d["kind"] == "Certificate" and not d["spec"].get("isCA")
    }
    assert sorted(certificates) == SERVICES
    for service, spec in certificates.items():
        assert spec["dnsNames"] == service_dns_names(service), service
        assert spec["secretName"] == f"{service}-tls"
        assert set(spec["usages"]) == {"digital signature", "server auth", "client auth"}
        assert spec["issuerRef"] == {"kind": "Issuer", "name": "recouvra-ca"}


def test_each_deployment_mounts_its_own_certificate_and_probes_the_health_port() -> None:
    for service in SERVICES:
        [deployment] = [d for d in _k8s(f"{service}.yaml") if d["kind"] == "Deployment"]
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["tls"]["secret"]["secretName"] == f"{service}-tls", service
        [container] = pod["containers"]
        mounts = {m["name"]: m for m in container["volumeMounts"]}
        assert mounts["tls"]["mountPath"] == "/var/run/secrets/recouvra/tls", service
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            grpc_probe = container[probe].get("grpc")
            # The gateway is probed over HTTP; every gRPC probe goes to the plain health port.
            assert grpc_probe is None or grpc_probe["port"] == 8081, (service, probe)
