"""Credentials: argon2 password hashes, signed access tokens (JWT), API key secrets."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
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
API_KEY_LABEL = "rk_live_"
# 48 random bits: visible in lists, and unique among millions of keys (a clash is retried).
PREFIX_CHARS = 12


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


@dataclass(frozen=True)
class NewApiKey:
    """A freshly made key: the plaintext (shown once), its visible prefix and its hash."""

    plaintext: str
    prefix: str
    secret_hash: str


def make_api_key() -> NewApiKey:
    """A random key `rk_live_<prefix>_<secret>`; only the prefix and a hash are kept."""
    prefix = API_KEY_LABEL + secrets.token_hex(PREFIX_CHARS // 2)
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, secret_hash=hash_api_key(plaintext))


def hash_api_key(plaintext: str) -> str:
    """SHA-256 of a key: it has 256 random bits, so a slow hash would add nothing but latency."""
    return hashlib.sha256(plaintext.encode()).hexdigest()


def api_key_prefix(plaintext: str) -> str | None:
    """The visible prefix of a presented key, or None when it does not look like one."""
    if not plaintext.startswith(API_KEY_LABEL):
        return None
    visible, sep, secret = plaintext[len(API_KEY_LABEL) :].partition("_")
    if not sep or len(visible) != PREFIX_CHARS or not secret:
        return None
    return API_KEY_LABEL + visible


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(a.encode(), b.encode())
