"""API keys: how they look, how they are made, and how a presented one is recognised."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

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
