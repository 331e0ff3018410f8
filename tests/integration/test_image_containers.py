"""The image `make image` builds runs each service as the manifests say (k8s/base/*.yaml).

Each service's container is started with podman against the local stack (host network), with its
certificate, key, signing key, trusted keys and the Kafka CA mounted read-only where the
manifests mount their secrets (/var/run/secrets/recouvra/...), group-readable by the service's
gid as `fsGroup` makes them. It runs as uid 10001 on a read-only root filesystem (only /tmp is
writable, the manifests' emptyDir), with every capability dropped and no privilege escalation.
The test sees it answer its health checks (gRPC over mutual TLS, and the plain-text health port
the kubelet probes; the gateway's /healthz), then sends SIGTERM and expects exit code 0 within the
manifests' grace period (30 s).

The image is (re)built first with deploy/local/image.sh (layers cached: seconds when nothing
changed). The test is skipped, saying why, only where buildah or podman cannot run: not
installed, not root, or the OCI runtime refuses to start a container.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.fixtures import ROOT, ServiceProcess, wait_serving
from tests.support.identity import identity_keys
from tests.support.stack import free_port, unique_name

pytestmark = pytest.mark.integration

IMAGE = os.environ.get("RECOUVRA_IMAGE", "localhost/recouvra:dev")
SCRIPT = ROOT / "deploy" / "local" / "image.sh"
SERVICES = ["intake", "scoring", "matching", "messaging", "vault", "settlement", "gateway"]
UID = 10001
GRACE_SECONDS = 30  # terminationGracePeriodSeconds in k8s/base/*.yaml
SECRETS = "/var/run/secrets/recouvra"


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )


def _refusal() -> str | None:
    """Why buildah/podman cannot run on this machine, or None."""
    for tool in ("buildah", "podman", "mmdebstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (deploy/local/system_packages.sh install images)"
    if os.geteuid() != 0:
        return "buildah and podman are only set up for root here (no rootless storage)"
    return None


@pytest.fixture(scope="module")
def podman_args() -> list[str]:
    """The image, built from this checkout, and the `podman run` options this machine needs."""
    refusal = _refusal()
    if refusal:
        pytest.skip(refusal)
    built = _run(str(SCRIPT), "build", timeout=3600)
    assert built.returncode == 0, built.stderr[-4000:]
    assert IMAGE in built.stdout  # the size line `make image` prints
    options = _run(str(SCRIPT), "podman-args").stdout.split()
    probe = _run(
        "podman", "run", "--rm", *options, "--network", "host", "--entrypoint", "true", IMAGE
    )
    if probe.returncode != 0 and "OCI" in probe.stderr:
        pytest.skip(f"podman cannot start a container here: {probe.stderr.strip()[-500:]}")
    assert probe.returncode == 0, probe.stderr
    return options


def _secret_file(source: str, target: Path) -> None:
    """Copy a key or certificate as a Secret volume shows it: root's, group `UID`, mode 0440."""
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    os.chown(target, 0, UID)
    target.chmod(0o440)


def _mounted_secrets(env: dict[str, str], service: str, staging: Path) -> list[str]:
    """Move the host paths in `env` to where the manifests mount them; the `-v` options."""
    moves = {
        "RECOUVRA_TLS_CA_FILE": "tls/ca.crt",
        "RECOUVRA_TLS_CERT_FILE": "tls/tls.crt",
        "RECOUVRA_TLS_KEY_FILE": "tls/tls.key",
        "RECOUVRA_KAFKA_CA_FILE": "kafka-ca/ca.crt",
        "RECOUVRA_IDENTITY_SIGNING_KEY": f"identity/{service}.key.pem",
    }
    for name, inside in moves.items():
        _secret_file(env[name], staging / inside)
        env[name] = f"{SECRETS}/{inside}"
    for key in Path(env["RECOUVRA_IDENTITY_TRUSTED_KEYS"]).iterdir():
        _secret_file(str(key), staging / "trusted-keys" / key.name)
    env["RECOUVRA_IDENTITY_TRUSTED_KEYS"] = f"{SECRETS}/trusted-keys"
    for directory in [staging, *staging.iterdir()]:
        os.chown(directory, 0, UID)
        directory.chmod(0o750)
    volumes = ["tls", "kafka-ca", "identity", "trusted-keys"]
    return [f"--volume={staging / v}:{SECRETS}/{v}:ro" for v in volumes]


def _plain_health(port: int) -> int:
    """The status the kubelet's gRPC probe reads on the plain-text health port."""
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    return int(reply.status)


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"recouvra-test-{secrets.token_hex(4)}"
    yield name
    _run("podman", "rm", "--force", "--time", "0", name)


@pytest.mark.parametrize("service", SERVICES)
def test_service_container_serves_health_and_stops_cleanly_on_sigterm(
    service: str,
    podman_args: list[str],
    container_name: str,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
    tmp_path: Path,
) -> None:
    prefix = f"RECOUVRA_{service.upper()}_"
    health_port, metrics_port = free_port(), free_port()
    extra = {"http_port": str(free_port())} if service in ("gateway", "settlement") else {}
    configured = run_service(service, make_database(service), unique_name("img") + ".", **extra)
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            # The stack's addresses; never another service's Kafka password or an admin's.
            if k.startswith("RECOUVRA_") and not k.endswith("KAFKA_PASSWORD") and "ADMIN" not in k
        },
        **identity_keys().env(service),
        **configured.env,
        # The manifests' ports, on the host's loopback (host network) rather than 0.0.0.0.
        f"{prefix}GRPC_HOST": "127.0.0.1",
        f"{prefix}GRPC_HEALTH_PORT": str(health_port),
        f"{prefix}METRICS_HOST": "127.0.0.1",
        f"{prefix}METRICS_PORT": str(metrics_port),
        f"{prefix}SHUTDOWN_GRACE_SECONDS": "10",
    }
    volumes = _mounted_secrets(env, service, tmp_path / "secrets")
    env_file = tmp_path / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    env_file.chmod(0o600)
    log_path = tmp_path / f"{service}-container.log"
    with log_path.open("wb") as log:
        container = subprocess.Popen(
            [
                "podman", "run", "--rm", f"--name={container_name}", *podman_args,
                "--network=host", "--read-only", "--read-only-tmpfs=false",
                "--tmpfs=/tmp:rw,size=64m,mode=1777", "--cap-drop=ALL",
                "--security-opt=no-new-privileges", f"--env-file={env_file}", *volumes,
                IMAGE, service,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_serving(configured.target, service, process=container)
        except (RuntimeError, TimeoutError) as error:
            raise AssertionError(
                f"{error}\n{log_path.read_text(errors='replace')[-3000:]}"
            ) from error
        assert _plain_health(health_port) == health_pb2.HealthCheckResponse.SERVING
        if service == "gateway":
            reply = httpx.get(f"http://127.0.0.1:{extra['http_port']}/healthz", timeout=5)
            assert reply.json() == {"status": "ok"}
        # Where the manifests' PodMonitor scrapes.
        metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert "recouvra_db_pool_size" in metrics.text

        # As the manifests say: uid/gid 10001 (from the image itself), a read-only root
        # filesystem, /tmp writable.
        who = _run("podman", "exec", container_name, "id", "-u")
        assert who.stdout.strip() == str(UID), who.stderr
        write = _run("podman", "exec", container_name, "python", "-c", "open('/app/altered', 'w')")
        assert write.returncode != 0
        assert "Read-only file system" in write.stderr, write.stderr
        scratch = _run("podman", "exec", container_name, "python", "-c", "open('/tmp/x', 'w')")
        assert scratch.returncode == 0, scratch.stderr

        signalled = _run("podman", "kill", "--signal=TERM", container_name)
        assert signalled.returncode == 0, signalled.stderr
        code = container.wait(timeout=GRACE_SECONDS)
    text = log_path.read_text(errors="replace")
    assert code == 0, text[-3000:]
    assert f'"msg": "{service} stopped"' in text, text[-3000:]
