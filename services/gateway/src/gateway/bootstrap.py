"""Wires the gateway: its HTTP server runs beside the platform runtime (gRPC health, relay)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import uvicorn

from gateway.config import GatewaySettings
from gateway.entrypoints.http import create_app
from recouvra_shared.runtime import ServiceParts, Wiring


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the service runtime owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def build(wiring: Wiring) -> ServiceParts:
    """The gateway serves HTTP; it keeps no business state of its own."""
    settings = wiring.settings
    assert isinstance(settings, GatewaySettings)
    app = create_app(settings)
    server = _EmbeddedServer(
        uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_config=None)
    )

    async def serve_http() -> None:
        await server.serve()

    async def stop_http() -> None:
        server.should_exit = True

    return ServiceParts(background=[serve_http], on_stop=[stop_http])
