"""Every service starts against the real stack, answers its health check and stops cleanly."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from tests.support.fixtures import ServiceProcess
from tests.support.stack import free_port, unique_name

pytestmark = pytest.mark.e2e

SERVICES = ["intake", "scoring", "matching", "messaging", "vault", "settlement", "gateway"]


@pytest.mark.parametrize("service", SERVICES)
def test_service_starts_reports_serving_and_stops_gracefully(
    service: str,
    make_database: Callable[[str], str],
    run_service: Callable[..., ServiceProcess],
) -> None:
    extra = {"http_port": str(free_port())} if service == "gateway" else {}
    process = run_service(service, make_database(service), unique_name("life") + ".", **extra)
    process.start()  # waits for grpc.health.v1 SERVING
    if service == "gateway":
        reply = httpx.get(f"http://127.0.0.1:{extra['http_port']}/healthz", timeout=5)
        assert reply.json() == {"status": "ok"}
    assert process.stop() == 0, process.log_text()[-2000:]
    assert f'"msg": "{service} stopped"' in process.log_text()
