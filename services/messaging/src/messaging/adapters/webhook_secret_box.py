"""Webhook signing secrets sealed at rest (AES-256-GCM, bound to their endpoint): a copy of the
database alone does not let anyone sign as Recouvra to a creditor's receiver."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from recouvra_shared.errors import DataLoss

PREFIX = "v1:"
NONCE_BYTES = 12


class WebhookSecretBox:
    """Seals and opens secrets with a key derived from the service's setting."""

    def __init__(self, key_material: str) -> None:
        if len(key_material.encode()) < 32:
            raise ValueError("webhooks_secrets_key: at least 32 bytes")
        key = hashlib.sha256(b"recouvra/webhook-secrets/v1:" + key_material.encode()).digest()
        self._aead = AESGCM(key)

    def seal(self, secret: str, endpoint_id: str) -> str:
        """`v1:` and the base64 of a random nonce and the ciphertext."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, secret.encode(), endpoint_id.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, endpoint_id: str) -> str:
        """The secret; refused when it was sealed for another endpoint, altered or by another
        key."""
        if not stored.startswith(PREFIX):
            raise DataLoss(f"webhook endpoint {endpoint_id}: secret not sealed")
        raw = base64.b64decode(stored[len(PREFIX) :])
        try:
            return self._aead.decrypt(
                raw[:NONCE_BYTES], raw[NONCE_BYTES:], endpoint_id.encode()
            ).decode()
        except InvalidTag as exc:
            raise DataLoss(f"webhook endpoint {endpoint_id}: secret does not open") from exc
