"""Posts webhooks with httpx to the very address it checked: the host is resolved, every address
must be public (outside development), and the connection goes to the first of them with the
host name kept for the Host header and TLS (SNI and certificate check), so DNS cannot answer one
address to the check and another to the connection (DNS rebinding). Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from urllib.parse import urlsplit, urlunsplit

import httpx

from messaging.domain.webhooks import RESPONSE_EXCERPT_CHARS, check_resolved
from messaging.service_layer.webhook_ports import PostOutcome, Resolver
from recouvra_shared.errors import InvalidRequest

USER_AGENT = "Recouvra-Webhooks/1"


async def resolve_host(host: str) -> list[str]:
    """Every address `host` resolves to now (an address literal is itself); none if it fails."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def pinned_url(url: str, address: str) -> str:
    """`url` with its host replaced by `address` (bracketed when IPv6), port and path kept."""
    parts = urlsplit(url)
    host = f"[{address}]" if ":" in address else address
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


async def _excerpt(response: httpx.Response) -> str:
    """The answer's first characters, read no further (a receiver may answer without end)."""
    read = b""
    async for chunk in response.aiter_bytes():
        read += chunk
        if len(read) >= RESPONSE_EXCERPT_CHARS:
            break
    return read.decode("utf-8", "replace")[:RESPONSE_EXCERPT_CHARS]


class HttpxWebhookSender:
    """One shared httpx client; each post resolves, checks, pins, and times the answer."""

    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float = 10.0,
        resolve: Resolver = resolve_host,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolve = resolve
        self.client = client or httpx.AsyncClient(
            timeout=timeout_seconds, follow_redirects=False, trust_env=False
        )

    async def post(self, url: str, headers: dict[str, str], body: str) -> PostOutcome:
        host = urlsplit(url).hostname or ""
        addresses = await self.resolve(host)
        try:
            check_resolved(addresses, allow_private=self.allow_private)
        except InvalidRequest as refused:
            return PostOutcome(status_code=None, latency_ms=0, error=f"refused: {refused}")
        request_headers = {**headers, "host": urlsplit(url).netloc, "user-agent": USER_AGENT}
        started = time.monotonic()
        try:
            async with self.client.stream(
                "POST",
                pinned_url(url, addresses[0]),
                content=body.encode(),
                headers=request_headers,
                extensions={"sni_hostname": host},
            ) as response:
                excerpt = await _excerpt(response)
        except httpx.HTTPError as exc:
            elapsed = int((time.monotonic() - started) * 1000)
            return PostOutcome(status_code=None, latency_ms=elapsed, error=type(exc).__name__)
        elapsed = int((time.monotonic() - started) * 1000)
        return PostOutcome(
            status_code=response.status_code, latency_ms=elapsed, response_excerpt=excerpt
        )

    async def close(self) -> None:
        """Close the connections."""
        await self.client.aclose()
