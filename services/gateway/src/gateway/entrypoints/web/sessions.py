"""Who is at the browser, and that a form came from our page: a signed session cookie, a CSRF
token bound to a cookie of its own, and the security headers every page carries."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.errors import NotAuthenticated
from gateway.domain.model import OrganisationKind, Principal
from gateway.entrypoints.web.rendering import CSRF_COOKIE
from recouvra_shared.errors import PermissionDenied

__all__ = ["CSRF_COOKIE", "SecurityHeaders", "WebSessions"]

SESSION_COOKIE = "recouvra_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_HOURS = 8
ALGORITHM = "HS256"
# No inline script or style anywhere (htmx is configured by a meta tag, charts are SVG
# attributes); forms post only here; nobody frames the pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
SECURITY_HEADER_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
# The API's interactive documentation is Swagger UI and ReDoc, which need inline code.
UNPOLICED_PREFIXES = ("/docs", "/redoc")


class WebSessions:
    """Sessions as signed cookies (a key of their own, an audience the API refuses), and CSRF
    tokens: HMAC of a random per-browser cookie, so a forged form from another site, which can
    neither read that cookie nor compute the HMAC, is refused."""

    def __init__(self, secret: bytes, *, hours: int = SESSION_HOURS) -> None:
        self._session_key = hmac.new(secret, b"web-session", hashlib.sha256).hexdigest()
        self._csrf_key = hmac.new(secret, b"web-csrf", hashlib.sha256).digest()
        self.ttl_seconds = hours * 3600

    def issue(self, principal: Principal, now: datetime | None = None, generation: int = 0) -> str:
        """A session cookie value for a person who just logged in, in the user's current
        session generation (the server refuses it once the user ends its sessions)."""
        now = now or datetime.now(UTC)
        claims = {
            "aud": "recouvra-web",
            "sub": principal.subject,
            "org": principal.organisation_id,
            "kind": principal.kind.value,
            "gen": generation,
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._session_key, algorithm=ALGORITHM)

    def principal(self, cookie: str | None) -> Principal:
        """The person a session cookie names; NotAuthenticated when absent, expired or forged."""
        return self.session(cookie)[0]

    def session(self, cookie: str | None) -> tuple[Principal, int]:
        """The person a session cookie names and the session generation it was opened in."""
        if not cookie:
            raise NotAuthenticated("log in to see this page")
        try:
            claims = jwt.decode(
                cookie, self._session_key, algorithms=[ALGORITHM], audience="recouvra-web"
            )
            principal = Principal(
                organisation_id=str(claims["org"]),
                kind=OrganisationKind(claims["kind"]),
                subject=str(claims["sub"]),
            )
            return principal, int(claims.get("gen", 0))
        except (jwt.PyJWTError, KeyError, ValueError, TypeError):
            raise NotAuthenticated("your session ended; log in again") from None

    @staticmethod
    def new_csrf_cookie() -> str:
        """A random value naming this browser for CSRF tokens."""
        return secrets.token_urlsafe(32)

    def csrf_token(self, cookie: str) -> str:
        """The token forms carry for the browser holding `cookie`."""
        return hmac.new(self._csrf_key, cookie.encode(), hashlib.sha256).hexdigest()

    def check_csrf(self, cookie: str | None, token: str | None) -> None:
        """Refuse a form whose token was not made for this browser."""
        if not cookie or not token or not hmac.compare_digest(self.csrf_token(cookie), token):
            raise PermissionDenied(
                "csrf_token: must be the token of a form this site gave this browser; "
                "reload the page and send it again"
            )


class SecurityHeaders:
    """Adds the Content-Security-Policy and its companions to every answer but the API docs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(UNPOLICED_PREFIXES):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in SECURITY_HEADER_NAMES
                ]
                message = {**message, "headers": headers + SECURITY_HEADERS}
            await send(message)

        await self.app(scope, receive, with_headers)
