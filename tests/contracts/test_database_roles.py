"""Who connects to PostgreSQL as whom, as declared: tests never as the administrator, each pod as
its own service's role, and only the migrate step as the schema owner.

tests/integration/test_database_roles.py shows on the real server what these roles may do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ["gateway", "intake", "scoring", "matching", "messaging", "vault", "settlement"]
ADMINISTRATOR = ("pg_admin_url", "RECOUVRA_PG_ADMIN_URL")


def test_only_the_test_support_connects_as_the_administrator() -> None:
    """It creates and drops the per-test databases and roles; every test and benchmark then
    connects as a service's role (tests.support.databases)."""
    code = [*ROOT.glob("tests/**/*.py"), *ROOT.glob("services/*/tests/**/*.py")]
    code += [*ROOT.glob("services/*/bench/**/*.py"), *ROOT.glob("tests/bench/**/*.py")]
    support, this = ROOT / "tests" / "support", Path(__file__).resolve()
    offenders = [
        str(path.relative_to(ROOT))
        for path in code
        if support not in path.parents
        and path.resolve() != this
        and any(name in path.read_text() for name in ADMINISTRATOR)
    ]
    assert offenders == []


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _database_secrets(container: dict[str, Any]) -> dict[str, str]:
    """Database setting -> the Secret it comes from."""
    return {
        env["name"]: env["valueFrom"]["secretKeyRef"]["name"]
        for env in container.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {}) and "DATABASE" in env["name"]
    }


def test_each_pod_reads_its_own_runtime_role_and_only_migrate_the_owner() -> None:
    for service in SERVICES:
        [deployment] = [
            d
            for d in _documents(ROOT / "k8s" / "base" / f"{service}.yaml")
            if d["kind"] == "Deployment"
        ]
        pod = deployment["spec"]["template"]["spec"]
        prefix = f"RECOUVRA_{service.upper()}_"
        [migrate] = pod["initContainers"]
        assert migrate["args"] == [service, "migrate"]
        assert _database_secrets(migrate) == {
            f"{prefix}DATABASE_URL": f"{service}-database",
            f"{prefix}MIGRATION_DATABASE_URL": f"{service}-database-owner",
        }
        for container in pod["containers"]:
            assert _database_secrets(container) == {f"{prefix}DATABASE_URL": f"{service}-database"}


def test_the_dev_secrets_and_the_cluster_name_each_services_two_roles() -> None:
    overlay = yaml.safe_load((ROOT / "k8s" / "overlays" / "dev" / "kustomization.yaml").read_text())
    urls = {
        secret["name"]: urlsplit(secret["literals"][0].removeprefix("url="))
        for secret in overlay["secretGenerator"]
        if secret["name"].endswith(("-database", "-database-owner"))
    }
    for service in SERVICES:
        runtime, owner = urls[f"{service}-database"], urls[f"{service}-database-owner"]
        assert (runtime.username, runtime.path) == (service, f"/{service}")
        assert (owner.username, owner.path) == (f"{service}_owner", f"/{service}")

    infra = _documents(ROOT / "k8s" / "infra" / "postgres.yaml")
    [cluster] = [d for d in infra if d["kind"] == "Cluster"]
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == {*SERVICES, *(f"{s}_owner" for s in SERVICES)}
    for role in roles.values():
        powers = ("superuser", "createdb", "createrole", "replication", "bypassrls")
        assert [p for p in powers if role.get(p) is not False] == [], role["name"]
    owners = {d["spec"]["name"]: d["spec"]["owner"] for d in infra if d["kind"] == "Database"}
    assert owners == {s: f"{s}_owner" for s in SERVICES}
