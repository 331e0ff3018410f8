"""The key file: running processes follow it as it changes, and weak keys are refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from vault.adapters.keys import (
    KeyFileWrapper,
    add_key_encryption_key,
    create_key_file,
    load_key_file,
    remove_key_encryption_keys,
)
from vault.config import VaultSettings
from vault.domain.crypto import DocumentIdentity, new_data_key
from vault.domain.errors import UnknownKey

IDENTITY = DocumentIdentity("creditor-1", "case-1", "00000000-0000-4000-8000-000000000001", 1)


def test_point_7_a_running_process_wraps_with_the_key_a_rotation_made_active(
    tmp_path: Path,
) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path)
    running = KeyFileWrapper(path)
    old = running.wrap(new_data_key(), IDENTITY)

    new_key_id = add_key_encryption_key(path)  # another process: `python -m vault rotate-keys`
    assert running.active_key_id == new_key_id
    data_key = new_data_key()
    wrapped = running.wrap(data_key, IDENTITY)
    assert wrapped.key_id == new_key_id
    assert old.key_id != new_key_id
    assert KeyFileWrapper(path).unwrap(wrapped, IDENTITY) == data_key

    remove_key_encryption_keys(path, [old.key_id])  # `retire-keys`: the old key is gone
    with pytest.raises(UnknownKey):
        running.unwrap(old, IDENTITY)


def write_keys(path: Path, kek: bytes) -> None:
    create_key_file(path)
    content = json.loads(path.read_text())
    content["keys"] = {content["active_key_id"]: base64.b64encode(kek).decode("ascii")}
    path.write_text(json.dumps(content))


PRODUCTION = {
    "RECOUVRA_ENV": "production",
    "RECOUVRA_VAULT_DATABASE_URL": "postgresql+asyncpg://vault:Xq9-long-real-pw@db/vault",
    "RECOUVRA_VAULT_S3_SECRET_KEY": "k7Hq2-s3cr3t-Wv8pLm-9xZ",
    "RECOUVRA_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
    "RECOUVRA_VAULT_KAFKA_PASSWORD": "Wq3-kafka-real-Lm8x",
}


@pytest.mark.parametrize(
    ("kek", "why"),
    [
        (bytes(32), "too few distinct bytes"),
        (b"0123456789abcdef" * 2, "printable text"),
        (b"change-me-please-this-is-32bytes", "printable text"),
    ],
)
def test_point_7_weak_or_placeholder_keys_are_refused_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kek: bytes, why: str
) -> None:
    path = tmp_path / "keys.json"
    write_keys(path, kek)
    monkeypatch.setenv("RECOUVRA_VAULT_KEY_FILE", str(path))
    assert VaultSettings().environment == "development"  # tests and laptops may use anything
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=f"key_file: refused in production: .*{why}"):
        VaultSettings()


def test_point_7_random_keys_pass_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keys.json"
    create_key_file(path)
    assert load_key_file(path).weaknesses() == []
    monkeypatch.setenv("RECOUVRA_VAULT_KEY_FILE", str(path))
    for name, value in PRODUCTION.items():
        monkeypatch.setenv(name, value)
    assert VaultSettings().environment == "production"
