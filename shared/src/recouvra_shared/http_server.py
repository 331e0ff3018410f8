"""The HTTP server a service embeds (uvicorn), started and stopped by the service runtime.

Idle keep-alive connections are kept for longer than any proxy in front keeps its pool of
them: uvicorn's own default (5 s) is shorter than ingress-nginx's upstream pool (60 s) or a
cloud load balancer's (60 s and more), so the server would close a connection at the moment the
proxy reuses it, and the proxy answers that request 502 without it ever reaching the service.
The party that keeps connections for less time must be the client: here, the proxy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import uvicorn

# Above ingress-nginx's and the common load balancers' 60 s; a proxy that keeps idle connections
# longer (Google Cloud's, 600 s) needs the service's setting raised above it.
KEEP_ALIVE_SECONDS = 75


class EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the service runtime owns shutdown."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def embedded_server(
    app: Any, host: str, port: int, keep_alive_seconds: int = KEEP_ALIVE_SECONDS, **options: Any
) -> EmbeddedServer:
    """A server for `app` on host:port; `options` are uvicorn's own (its parser, proxy headers)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        timeout_keep_alive=keep_alive_seconds,
        **options,
    )
    return EmbeddedServer(config)
