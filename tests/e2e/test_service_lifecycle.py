"""Every service starts against the real stack, answers its health check and stops cleanly."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx
import pytest

from tests.support.fixtures import ServiceProcess
from tests.support.stack import free_port, unique_name

pytestmark = pytest.mark.e2e

HEALTH = b"GET /healthz HTTP/1.1\r\nHost: gateway\r\n\r\n"


def answer(connection: socket.socket) -> bytes:
    """One whole response (status line, headers, a Content-Length body); b"" if closed."""
    received = b""
    while b"\r\n\r\n" not in received:
        piece = connection.recv(65536)
        if not piece:
            return received
        received += piece
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        piece = connection.recv(65536)
        if not piece:
            break
        body += piece
    return head + b"\r\n\r\n" + body


def assert_idle_connection_kept(port: int) -> None:
    """A proxy's pooled connection, idle past uvicorn's own 5 s, is still answered.

    Were the gateway to close it first, a proxy reusing it at that moment would answer its
    client 502 (recouvra_shared.http_server).
    """
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(HEALTH)
        assert answer(connection).startswith(b"HTTP/1.1 200")
        time.sleep(6)
        connection.sendall(HEALTH)
        assert answer(connection).startswith(b"HTTP/1.1 200")


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
        assert_idle_connection_kept(int(extra["http_port"]))
    assert process.stop() == 0, process.log_text()[-2000:]
    assert f'"msg": "{service} stopped"' in process.log_text()
