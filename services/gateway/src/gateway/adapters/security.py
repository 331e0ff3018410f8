"""Credentials: argon2 password hashes and signed access tokens (JWT)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway.domain.errors import Busy, NotAuthenticated
from gateway.domain.model import OrganisationKind, Principal

T = TypeVar("T")

# Pinned: a token naming any other algorithm (including "none") is refused.
TOKEN_ALGORITHM = "HS256"


class Passwords:
    """argon2id hashing with the library's recommended parameters, off the event loop, at most
    `concurrency` at a time.

    A hash costs tens of milliseconds of CPU and `memory_cost` KiB of memory (64 MiB) by design.
    Run in its own pool of `concurrency` threads, hashing never holds more memory than that many
    hashes do, whatever the number of log-ins at once; up to `waiting` more wait their turn, and
    beyond that a log-in is refused as busy (503, Retry-After) rather than queued without end.
    """

    def __init__(
        self, hasher: PasswordHasher | None = None, *, concurrency: int = 2, waiting: int = 64
    ) -> None:
        if concurrency < 1 or waiting < 0:
            raise ValueError("concurrency must be at least 1 and waiting at least 0")
        self.hasher = hasher or PasswordHasher()
        self.concurrency = concurrency
        self.waiting = waiting
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="argon2")
        self._admitted = 0
        # Verifying against a real hash when the email is unknown keeps the timing the same.
        self._decoy = self.hasher.hash(secrets.token_urlsafe(16))

    @staticmethod
    def concurrency_within(memory_mib: int, hasher: PasswordHasher | None = None) -> int:
        """How many hashes fit in `memory_mib` (at least one)."""
        per_hash_mib = (hasher or PasswordHasher()).memory_cost / 1024
        return max(1, int(memory_mib // per_hash_mib))

    async def hash(self, password: str) -> str:
        """A salted argon2id hash of the password."""
        return await self._run(self.hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """True when the password matches; an absent hash costs the same and answers False."""
        return await self._run(self._verify, password_hash, password)

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        if self._admitted >= self.concurrency + self.waiting:
            raise Busy("too many log-ins and sign-ups at once; retry in a moment")
        self._admitted += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)
        finally:
            self._admitted -= 1

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

    def issue(
        self, principal: Principal, now: datetime | None = None, *, generation: int | None = None
    ) -> IssuedToken:
        """A token for the principal, valid for ttl_seconds from now; a person's token names
        the user's session generation, so that logging out everywhere or a new password ends it."""
        now = now or datetime.now(UTC)
        claims: dict[str, object] = {
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
        if generation is not None:
            claims["gen"] = generation
        token = jwt.encode(claims, self._secret, algorithm=TOKEN_ALGORITHM)
        return IssuedToken(token=token, expires_in=self.ttl_seconds)

    def verify(self, token: str) -> Principal:
        """The principal a token names; NotAuthenticated when it is expired, forged or foreign."""
        return self.verify_session(token)[0]

    def verify_session(self, token: str) -> tuple[Principal, int | None]:
        """The principal a token names and the session generation it was issued in (None when
        it names none); NotAuthenticated when it is expired, forged or foreign."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[TOKEN_ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "org", "kind"]},
            )
            principal = Principal(
                organisation_id=str(claims["org"]),
                kind=OrganisationKind(claims["kind"]),
                subject=str(claims["sub"]),
            )
            generation = claims.get("gen")
            return principal, int(generation) if generation is not None else None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise NotAuthenticated(f"invalid access token ({type(exc).__name__})") from None


class DeviceCookies:
    """A signed cookie given to a client that logged in, vouching for it on that e-mail later.

    While guesses from many addresses lock an e-mail out, a browser or client that logged in to
    it before still may (OWASP's device cookies): the owner is not locked out by others. It
    names only a digest of the e-mail, and is signed with a key derived from the token secret.
    """

    NAME = "recouvra_device"
    AUDIENCE = "recouvra-device"

    def __init__(self, secret: str, *, ttl_days: int = 180) -> None:
        self._key = hashlib.sha256(b"device-cookie:" + secret.encode()).hexdigest()
        self.ttl_seconds = ttl_days * 86400

    @staticmethod
    def _subject(email: str) -> str:
        return hashlib.sha256(email.encode()).hexdigest()

    def issue(self, email: str, now: datetime | None = None) -> str:
        """A cookie value vouching for this client on this (normalised) e-mail."""
        now = now or datetime.now(UTC)
        claims = {
            "aud": self.AUDIENCE,
            "sub": self._subject(email),
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self._key, algorithm=TOKEN_ALGORITHM)

    def vouches_for(self, cookie: str | None, email: str) -> bool:
        """True when the cookie is ours, unexpired, and for this e-mail."""
        if not cookie:
            return False
        try:
            claims = jwt.decode(
                cookie, self._key, algorithms=[TOKEN_ALGORITHM], audience=self.AUDIENCE
            )
        except jwt.PyJWTError:
            return False
        return hmac.compare_digest(str(claims.get("sub", "")), self._subject(email))
