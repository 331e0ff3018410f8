"""The local key source: a JSON key file with the key-encryption keys and the audit signing key.

For development and tests only; production plugs a KMS adapter behind `KeyWrapper` instead.
The file is written atomically with mode 0600.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from vault.domain.crypto import DocumentIdentity, KeyRing, WrappedKey


@dataclass(frozen=True)
class LocalKeys:
    """What the key file holds."""

    ring: KeyRing
    audit_signing_key: Ed25519PrivateKey


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


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
        return LocalKeys(KeyRing(keys, content["active_key_id"]), signing)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"key_file: {path} is not a usable vault key file: {exc}") from exc


def add_key_encryption_key(path: Path) -> str:
    """Add a fresh key-encryption key and make it active; older keys stay for unwrapping."""
    content = json.loads(path.read_text())
    key_id = _new_key_id()
    content["keys"][key_id] = _b64(secrets.token_bytes(32))
    content["active_key_id"] = key_id
    _write(path, content)
    return key_id


class KeyFileWrapper:
    """`KeyWrapper` over a key file, re-read when a wrap names a key it has not loaded yet.

    A rotation run by `python -m vault rotate-keys` adds a key to the file; running processes
    pick it up the first time they meet a data key wrapped by it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ring = load_key_file(path).ring

    @property
    def active_key_id(self) -> str:
        return self.ring.active_key_id

    def wrap(self, data_key: bytes, identity: DocumentIdentity) -> WrappedKey:
        return self.ring.wrap(data_key, identity)

    def unwrap(self, wrapped: WrappedKey, identity: DocumentIdentity) -> bytes:
        if wrapped.key_id not in self.ring.key_ids:
            self.ring = load_key_file(self.path).ring
        return self.ring.unwrap(wrapped, identity)
