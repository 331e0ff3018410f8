"""Credentials: argon2 password hashes and signed access tokens (JWT)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.domain.errors import NotAuthenticated
from gateway.domain.model import OrganisationKind, Principal

# Pinned: a token naming any other algorithm (including "none") is refused.
TOKEN_ALGORITHM = "HS256"


class Passwords:
    """argon2id hashing with the library's recommended parameters, off the event loop.

    A hash costs tens of milliseconds of CPU and memory by design: run in a worker thread, it
    does not stall every other request the gateway is serving.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        # Verifying against a real hash when the email is unknown keeps the timing the same.
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    async def hash(self, password: str) -> str:
        """A salted argon2id hash of the password."""
        return await asyncio.to_thread(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; an absent hash costs the same and answers False."""
        return await asyncio.to_thread(self._verify, password_hash, password)

    def _verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash or self._decoy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False


@dataclass(frozen=True)
class IssuedToken:
    """An access token and how long it lives."""

    token: str
    expires_in: int


class Tokens:
    """Short-lived HS256 access tokens with issuer, audience and expiry always checked."""

    def __init__(self, secret: str, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.issuer = issuer
        self.audience = audience
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal, now: datetime | None = None) -> IssuedToken:
        """A token for the principal, valid for ttl_seconds from now."""
        now = now or datetime.now(UTC)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": principal.subject,
            "org": principal.organisation_id,
            "kind": principal.kind.value,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
            "jti": secrets.token_hex(8),
        }
        token = jwt.encode(claims, self._secret, algorithm=TOKEN_ALGORITHM)
        return IssuedToken(token=token, expires_in=self.ttl_seconds)

    def verify(self, token: str) -> Principal:
        """The principal a token names; NotAuthenticated when it is expired, forged or foreign."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[TOKEN_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "org", "kind"]},
            )
            return Principal(
                organisation_id=str(claims["org"]),
                kind=OrganisationKind(claims["kind"]),
                subject=str(claims["sub"]),
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise NotAuthenticated(f"invalid access token ({type(exc).__name__})") from None
