"""The debtor portal's door: a signed link (portal_links) opens it only with a second factor a
stranger would not know, tried a bounded number of times per link, and then a short-lived
session that names that one case.

A session is sealed with a key derived from the portal secret for sessions only, and has its
own shape, so a link is never taken for a session nor a session for a link.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

from recouvra_shared.errors import PermissionDenied

SESSION_VERSION = "ps1"
SESSION_TTL = timedelta(minutes=30)
MAX_WRONG_ANSWERS = 5
_NOT_COMPARED = re.compile(r"[\s\-./_]+")


def _session_key(secret: bytes) -> bytes:
    return hmac.new(secret, b"recouvra portal session", hashlib.sha256).digest()


def _mac(key: bytes, payload: str) -> str:
    digest = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_fingerprint(token: str) -> str:
    """What the attempts at a link are counted under: its SHA-256 (the link is not stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalised(answer: str) -> str:
    """An answer as compared: case, spaces, dashes, dots and slashes do not matter."""
    return _NOT_COMPARED.sub("", answer).casefold()


def second_factor_matches(answer: str, expected: list[str]) -> bool:
    """Whether the answer is one of the case's invoice numbers or the debtor's postal code;
    every candidate is compared in constant time."""
    given = normalised(answer).encode()
    if not given:
        return False
    found = False
    for candidate in expected:
        wanted = normalised(candidate).encode()
        if wanted and hmac.compare_digest(given, wanted):
            found = True
    return found


def open_session(case_id: str, now: datetime, secret: bytes, ttl: timedelta = SESSION_TTL) -> str:
    """A session for one case, valid for `ttl` from `now`."""
    payload = (
        f"{SESSION_VERSION}.{case_id}.{int((now + ttl).timestamp())}.{secrets.token_urlsafe(9)}"
    )
    return f"{payload}.{_mac(_session_key(secret), payload)}"


def session_case(session: str, now: datetime, secret: bytes) -> str:
    """The case a session names; refused when altered, of another kind, or expired."""
    parts = session.split(".")
    if len(parts) != 5 or parts[0] != SESSION_VERSION:
        raise PermissionDenied("session: not a portal session")
    payload = ".".join(parts[:4])
    if not hmac.compare_digest(_mac(_session_key(secret), payload), parts[4]):
        raise PermissionDenied("session: signature does not match")
    if not parts[2].isdigit() or int(parts[2]) <= int(now.timestamp()):
        raise PermissionDenied("session: expired; open the link again")
    return parts[1]


def session_expiry(session: str) -> datetime:
    """When a session (already verified) ends."""
    return datetime.fromtimestamp(int(session.split(".")[2]), UTC)
