"""Signed links to the debtor portal: the case id and an expiry, sealed with HMAC-SHA256.

The link carries no personal data; whoever holds it may see that one case until it expires. The
gateway's portal page verifies it with the same secret (`verify`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta

from recouvra_shared.errors import PermissionDenied

VERSION = "v1"


def _mac(secret: bytes, payload: str) -> str:
    digest = hmac.new(secret, payload.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(case_id: str, expires_at: datetime, secret: bytes) -> str:
    """A token naming `case_id`, valid until `expires_at` (an aware datetime)."""
    payload = f"{VERSION}.{case_id}.{int(expires_at.timestamp())}"
    return f"{payload}.{_mac(secret, payload)}"


def verify(token: str, now: datetime, secret: bytes) -> str:
    """The case id a token names; refused when altered, foreign or expired."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        raise PermissionDenied("token: not a portal link")
    payload = ".".join(parts[:3])
    if not hmac.compare_digest(_mac(secret, payload), parts[3]):
        raise PermissionDenied("token: signature does not match")
    if int(parts[2]) <= int(now.timestamp()):
        raise PermissionDenied("token: expired")
    return parts[1]


def portal_url(base_url: str, case_id: str, now: datetime, ttl: timedelta, secret: bytes) -> str:
    """The debtor's link for one case, valid for `ttl` from `now`."""
    return f"{base_url.rstrip('/')}/portal/{sign(case_id, now + ttl, secret)}"
