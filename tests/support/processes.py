"""Services as processes for benchmarks and load tests, outside pytest's fixtures: configured
against the local stack as `run_service` does, quieter (WARNING logs), and an HTTP wait."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.support.fixtures import ServiceProcess
from tests.support.pki import platform_pki
from tests.support.stack import Stack, free_port, provision_kafka


def service(
    stack: Stack, name: str, database_url: str, prefix: str, logs: Path, **env: str
) -> ServiceProcess:
    """A configured (not started) `python -m <name>` on free ports with its own database."""
    port = free_port()
    own = f"RECOUVRA_{name.upper()}_"
    provision_kafka(stack, prefix, [name])
    return ServiceProcess(
        service=name,
        env={
            "RECOUVRA_ENV": "development",
            "RECOUVRA_LOG_LEVEL": "WARNING",
            **stack.kafka_env(name),
            "RECOUVRA_KAFKA_TOPIC_PREFIX": prefix,
            **platform_pki().env(name),
            f"{own}DATABASE_URL": database_url,
            f"{own}GRPC_PORT": str(port),
            **{f"{own}{key.upper()}": value for key, value in env.items()},
        },
        log_path=logs / f"{name}.log",
        grpc_port=port,
    )


def wait_http(url: str, gateway: ServiceProcess) -> None:
    """Wait until the gateway at `url` answers /healthz (its log when it died instead)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if gateway.exited() is not None:
            raise RuntimeError(gateway.log_text()[-3000:])
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"the gateway did not answer at {url}")
