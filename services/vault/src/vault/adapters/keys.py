"""The local key source: a JSON key file with the key-encryption keys and the audit signing key.

For development and tests only; production plugs a KMS adapter behind `KeyWrapper` instead.
The file is written atomically with mode 0600.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from vault.domain.crypto import DocumentIdentity, KeyRing, WrappedKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalKeys:
    """What the key file holds."""

    ring: KeyRing
    audit_signing_key: Ed25519PrivateKey
    # When the active key became active (None in files written before it was recorded).
    active_since: datetime | None = None

    def weaknesses(self) -> list[str]:
        """Why these keys must not protect real documents (placeholders, low-entropy bytes)."""
        found = [
            f"key-encryption key {key_id!r}: {why}"
            for key_id, raw in self.ring.raw_keys().items()
            if (why := weak_key(raw)) is not None
        ]
        signing = weak_key(_raw_private(self.audit_signing_key))
        if signing is not None:
            found.append(f"audit signing key: {signing}")
        return found


def weak_key(raw: bytes) -> str | None:
    """Why 32 key bytes look chosen by hand rather than drawn at random; None when they do not.

    Random 32 bytes have about 28 distinct values; fewer than 16 (all zeros, a repeated pattern,
    an ASCII word padded out) is a placeholder, not a key.
    """
    if len(set(raw)) < 16:
        return "too few distinct bytes: a placeholder or a pattern, not a random key"
    if all(0x20 <= byte < 0x7F for byte in raw):
        return "printable text, not random bytes"
    return None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _write(path: Path, content: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
    os.replace(temporary, path)


def _new_key_id() -> str:
    return f"kek-{secrets.token_hex(4)}"


def create_key_file(path: Path) -> None:
    """A new key file with one key-encryption key and a fresh audit signing key."""
    key_id = _new_key_id()
    _write(
        path,
        {
            "active_key_id": key_id,
            "active_since": _now(),
            "keys": {key_id: _b64(secrets.token_bytes(32))},
            "audit_signing_key": _b64(_raw_private(Ed25519PrivateKey.generate())),
        },
    )


def load_key_file(path: Path) -> LocalKeys:
    """The keys of a key file; ValueError naming the problem when it is unusable."""
    try:
        content = json.loads(path.read_text())
        keys = {kid: base64.b64decode(value) for kid, value in content["keys"].items()}
        signing = Ed25519PrivateKey.from_private_bytes(
            base64.b64decode(content["audit_signing_key"])
        )
        since = content.get("active_since")
        return LocalKeys(
            KeyRing(keys, content["active_key_id"]),
            signing,
            datetime.fromisoformat(since) if since else None,
        )
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"key_file: {path} is not a usable vault key file: {exc}") from exc


def add_key_encryption_key(path: Path) -> str:
    """Add a fresh key-encryption key and make it active; older keys stay for unwrapping."""
    content = json.loads(path.read_text())
    key_id = _new_key_id()
    content["keys"][key_id] = _b64(secrets.token_bytes(32))
    content["active_key_id"] = key_id
    content["active_since"] = _now()
    _write(path, content)
    return key_id


def remove_key_encryption_keys(path: Path, key_ids: Collection[str]) -> None:
    """Delete retired key-encryption keys from the file (never the active one)."""
    content = json.loads(path.read_text())
    if content["active_key_id"] in key_ids:
        raise ValueError("the active key-encryption key cannot be retired")
    content["keys"] = {k: v for k, v in content["keys"].items() if k not in key_ids}
    _write(path, content)


class KeyFileWrapper:
    """`KeyWrapper` over a key file, re-read whenever the file changes.

    A rotation (`python -m vault rotate-keys`, or a replaced Kubernetes Secret) changes the file:
    running processes wrap new data keys with the new active key from their next upload on, and
    a retirement removes the old keys from their memory too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen: tuple[int, int, int] | None = None
        self.ring = self._load()

    def _stamp(self) -> tuple[int, int, int]:
        stat = self.path.stat()
        return stat.st_mtime_ns, stat.st_size, stat.st_ino

    def _load(self) -> KeyRing:
        stamp = self._stamp()
        ring = load_key_file(self.path).ring
        self._seen = stamp
        return ring

    def _current(self) -> KeyRing:
        try:
            changed = self._stamp() != self._seen
        except OSError:
            changed = False  # a Secret being swapped: keep the ring we have until it settles
        if changed:
            try:
                self.ring = self._load()
            except (OSError, ValueError):
                log.exception(
                    "key file %s changed but cannot be read; keeping the old ring", self.path
                )
        return self.ring

    @property
    def active_key_id(self) -> str:
        return self._current().active_key_id

    def wrap(self, data_key: bytes, identity: DocumentIdentity) -> WrappedKey:
        return self._current().wrap(data_key, identity)

    def unwrap(self, wrapped: WrappedKey, identity: DocumentIdentity) -> bytes:
        return self._current().unwrap(wrapped, identity)
