"""At most so many requests in flight per credential on this gateway replica.

A client that sends faster than it is answered (a robot retrying every request at once while a
service restarts, a loop, a leaked key) is told to slow down with 429 and Retry-After before any
work is done for it: no token check, no database, no backing service. Everyone else keeps being
served. Counted per credential as sent (the bearer, the X-API-Key), in memory: a person's web
pages (a session cookie) and anonymous requests (log-in and sign-up, which have rate limits of
their own) are not counted here. The cap a client meets is this limit times the replicas.
"""

from __future__ import annotations

from collections import Counter

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.domain.errors import TooManyAttempts
from gateway.entrypoints.api.deps import GatewayServices
from gateway.entrypoints.api.problems import refusal_problem

# Answers come within a second or two when the gateway is well: a refused request may go again
# once one of the caller's requests in flight has been answered.
RETRY_AFTER_SECONDS = 1
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


def _credential(scope: Scope) -> tuple[bytes, ...] | None:
    sent = tuple(value for name, value in scope["headers"] if name in CREDENTIAL_HEADERS)
    return sent or None


class InFlightPerCredential:
    """The ASGI layer that counts each credential's requests until their answers end, up to the
    services' `in_flight_per_credential` (read when the app first serves: the OpenAPI document
    is built from an app without services)."""

    def __init__(self, app: ASGIApp, services: GatewayServices) -> None:
        self.app = app
        self.limit = services.in_flight_per_credential
        self._in_flight: Counter[tuple[bytes, ...]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        credential = _credential(scope) if scope["type"] == "http" and self.limit > 0 else None
        if credential is None:
            await self.app(scope, receive, send)
            return
        if self._in_flight[credential] >= self.limit:
            refusal = TooManyAttempts(
                RETRY_AFTER_SECONDS,
                f"too many requests in flight: at most {self.limit} at once per credential; "
                f"wait for the answers to those sent, then retry in {RETRY_AFTER_SECONDS} s "
                "with the same Idempotency-Key",
            )
            await refusal_problem(Request(scope), refusal)(scope, receive, send)
            return
        self._in_flight[credential] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_flight[credential] -= 1
            if not self._in_flight[credential]:
                del self._in_flight[credential]
