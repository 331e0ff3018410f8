"""API keys: how they look, how they are made, and how a presented one is recognised."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from gateway.domain.errors import InvalidField, NotAllowed
from gateway.domain.model import API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, Principal

API_KEY_LABEL = "rk_live_"
# 48 random bits: visible in lists, and unique among millions of keys (a clash is retried).
PREFIX_CHARS = 12


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


def check_manages_keys(principal: Principal) -> None:
    """Only a person's session, or a key with the `keys` scope, lists, makes or revokes keys:
    a key that leaked must not be able to mint itself successors."""
    if not principal.may("keys"):
        raise NotAllowed("api keys are managed by a logged-in user or a key with the 'keys' scope")


def checked_scopes(requested: Sequence[str] | None, granter: Principal) -> tuple[str, ...]:
    """The scopes of a new key: known ones, at least one, none its maker does not hold."""
    scopes = tuple(dict.fromkeys(requested)) if requested is not None else DEFAULT_API_KEY_SCOPES
    unknown = [s for s in scopes if s not in API_KEY_SCOPES]
    if unknown:
        raise InvalidField("scopes", f"must be among {', '.join(API_KEY_SCOPES)}; got {unknown}")
    if not scopes:
        raise InvalidField("scopes", "must name at least one scope")
    beyond = [s for s in scopes if not granter.may(s)]
    if beyond:
        raise InvalidField("scopes", f"cannot exceed the scopes of the key making it: {beyond}")
    return tuple(s for s in API_KEY_SCOPES if s in scopes)


def checked_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    """A new key's expiry: none, or a moment in the future."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidField("expires_at", "must carry a time zone (e.g. 2027-01-31T00:00:00Z)")
    if expires_at <= now:
        raise InvalidField("expires_at", "must be in the future")
    return expires_at
