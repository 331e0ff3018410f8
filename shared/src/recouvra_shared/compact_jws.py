"""One pass over an EdDSA compact JWS (JWT) from a trusted key: the checks `TokenVerifier` needs.

`jwt.get_unverified_header` then `jwt.decode` parsed the header twice and went through PyJWT's
general machinery (options merged per call, every algorithm's dispatch, claims validated through
datetime) at each call: on a gRPC server that verifies a token per call it cost as much again
as the Ed25519 signature check itself. This does the same checks once, in order, and refuses
what the tokens this platform mints never carry (another algorithm, `crit`, an unencoded payload
`b64`), so it accepts no token PyJWT would refuse.

Refusals are `TokenRefused` naming what failed, in PyJWT's words where PyJWT had some
("Signature has expired", "Audience doesn't match", "Invalid issuer", ...).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

ALGORITHM = "EdDSA"


class TokenRefused(Exception):
    """The token is not one to believe; the message says which check failed."""


class NotAToken(TokenRefused):
    """The text is not a compact JWS at all."""


class UntrustedKey(TokenRefused):
    """The header names another algorithm or a key this receiver does not trust."""


class SigningKey(Protocol):
    """A trusted public key and the one issuer it signs for."""

    @property
    def issuer(self) -> str: ...

    @property
    def public_key(self) -> Ed25519PublicKey: ...


K = TypeVar("K", bound=SigningKey)


def _segment(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise NotAToken(f"Invalid base64 segment ({exc})") from exc


def _object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise NotAToken(f"Invalid {what} JSON") from exc
    if not isinstance(value, dict):
        raise NotAToken(f"Invalid {what}: must be a JSON object")
    return value


def _whole(claims: Mapping[str, Any], name: str) -> int:
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TokenRefused(f"{name} must be a number")
    return int(value)


def decode(
    token: str,
    trusted: Mapping[str, K],
    *,
    audience: str,
    required: Iterable[str],
    leeway: float,
    now: float | None = None,
) -> tuple[K, dict[str, Any]]:
    """The key that signed `token` and its claims, once every check passed: the header names
    EdDSA and a trusted `kid`, the signature holds, every `required` claim is present, `iss` is
    the key's issuer, `audience` is among `aud`, and `now` (± leeway) lies within `nbf`, `iat`
    and `exp`."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise NotAToken("Not enough segments")
    header_segment, payload_segment, signature_segment = parts
    header = _object(_segment(header_segment), "header")
    key = trusted.get(str(header.get("kid", "")))
    if header.get("alg") != ALGORITHM or key is None:
        raise UntrustedKey("signed by a key this service does not trust")
    if "crit" in header or header.get("b64", True) is not True:
        raise TokenRefused("header extensions (crit, b64) are not accepted")
    try:
        key.public_key.verify(
            _segment(signature_segment), f"{header_segment}.{payload_segment}".encode()
        )
    except InvalidSignature as exc:
        raise TokenRefused("Signature verification failed") from exc
    claims = _object(_segment(payload_segment), "payload")
    for name in required:
        if claims.get(name) is None:
            raise TokenRefused(f'Token is missing the "{name}" claim')
    now = time.time() if now is None else now
    if "exp" in claims and _whole(claims, "exp") <= now - leeway:
        raise TokenRefused("Signature has expired")
    if "nbf" in claims and _whole(claims, "nbf") > now + leeway:
        raise TokenRefused("The token is not yet valid (nbf)")
    if "iat" in claims and _whole(claims, "iat") > now + leeway:
        raise TokenRefused("The token is not yet valid (iat)")
    audiences = claims.get("aud")
    if isinstance(audiences, str):
        audiences = [audiences]
    if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
        raise TokenRefused("Invalid claim format in token (aud)")
    if audience not in audiences:
        raise TokenRefused("Audience doesn't match")
    if claims.get("iss") != key.issuer:
        raise TokenRefused("Invalid issuer")
    if "sub" in claims and not isinstance(claims["sub"], str):
        raise TokenRefused("Subject must be a string")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise TokenRefused("JWT ID must be a string")
    return key, claims
