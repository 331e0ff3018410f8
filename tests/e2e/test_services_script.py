"""An operator restarts one service with deploy/local/services.sh, leaving the others alone."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.databases import ServiceDatabase
from tests.support.stack import ROOT, Stack, free_port, provision_kafka, unique_name

pytestmark = pytest.mark.e2e

SCRIPT = ROOT / "deploy" / "local" / "services.sh"


def services(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180
    )


def plain_text_health(target: str) -> grpc.StatusCode | None:
    """The status a health check without TLS gets (None: it was answered)."""
    with grpc.insecure_channel(target) as channel:
        try:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        except grpc.RpcError as error:
            code: grpc.StatusCode = error.code()
            return code
    return None


def test_one_service_starts_restarts_and_stops_alone(
    stack: Stack, make_service_database: Callable[..., ServiceDatabase], tmp_path: Path
) -> None:
    port = str(free_port())
    intake_port = str(free_port())  # not started: only where scoring is told to find it
    database = make_service_database("scoring", migrated=False)  # the script migrates it
    prefix = unique_name("script") + "."
    provision_kafka(stack, prefix, ["scoring"])  # as stack.sh does at deploy: topics and ACLs
    env = {
        **os.environ,
        "RECOUVRA_VAR_DIR": str(tmp_path),
        "RECOUVRA_SCORING_DATABASE_URL": database.url,
        "RECOUVRA_SCORING_MIGRATION_DATABASE_URL": database.owner_url,
        "RECOUVRA_SCORING_GRPC_PORT": port,
        "RECOUVRA_INTAKE_GRPC_PORT": intake_port,
        "RECOUVRA_KAFKA_TOPIC_PREFIX": prefix,
    }
    pid_file = tmp_path / "run" / "scoring.pid"
    try:
        started = services(env, "start", "scoring")
        assert started.returncode == 0, started.stderr
        assert f"scoring serving (mutual TLS) on 127.0.0.1:{port}" in started.stderr
        first_pid = pid_file.read_text().strip()
        # A peer's moved port moves its callers: scoring asks intake where intake now listens.
        environ = Path(f"/proc/{first_pid}/environ").read_bytes().split(b"\0")
        assert f"RECOUVRA_SCORING_INTAKE_TARGET=127.0.0.1:{intake_port}".encode() in environ
        # The script made the local CA and certificates; the service speaks nothing but mTLS.
        assert (tmp_path / "tls" / "scoring.key").stat().st_mode & 0o077 == 0
        assert plain_text_health(f"127.0.0.1:{port}") is grpc.StatusCode.UNAVAILABLE
        assert "intake serving" not in started.stderr  # nothing else was started

        status = services(env, "status", "scoring")
        assert status.returncode == 0
        assert status.stdout.split() == ["scoring", "serving", f"127.0.0.1:{port}"]

        restarted = services(env, "restart", "scoring")
        assert restarted.returncode == 0, restarted.stderr
        assert "scoring stopped" in restarted.stderr
        assert pid_file.read_text().strip() != first_pid
        assert services(env, "status", "scoring").returncode == 0
    finally:
        stopped = services(env, "stop", "scoring")
    assert stopped.returncode == 0, stopped.stderr
    assert not pid_file.exists()
    down = services(env, "status", "scoring")
    assert down.returncode == 1
    assert down.stdout.split()[:2] == ["scoring", "down"]
    assert '"msg": "scoring stopped"' in (tmp_path / "log" / "scoring.log").read_text()


def test_an_unknown_service_is_refused_naming_the_known_ones() -> None:
    refused = services(dict(os.environ), "restart", "billing")
    assert refused.returncode == 1
    assert "unknown service 'billing'" in refused.stderr
    assert "intake scoring matching" in refused.stderr
