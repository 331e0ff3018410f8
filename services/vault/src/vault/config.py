"""Vault's settings (environment prefix RECOUVRA_VAULT_; the S3 server's own names are shared)."""

from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)
from vault.adapters.keys import load_key_file

DEV_KEY_FILE = Path.home() / ".local" / "state" / "recouvra" / "vault" / "keys.json"


class VaultSettings(ServiceSettings):
    """Settings of the vault service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_VAULT_", extra="ignore")

    service_name: str = "vault"
    grpc_port: int = 17055
    database_url: SecretStr = dev_database_url("vault")
    migration_database_url: SecretStr = dev_migration_database_url("vault")

    s3_endpoint: str = Field(
        default="127.0.0.1:18333",
        validation_alias=AliasChoices("RECOUVRA_VAULT_S3_ENDPOINT", "RECOUVRA_S3_ENDPOINT"),
    )
    s3_access_key: str = Field(
        default="recouvra-dev",
        validation_alias=AliasChoices("RECOUVRA_VAULT_S3_ACCESS_KEY", "RECOUVRA_S3_ACCESS_KEY"),
    )
    s3_secret_key: SecretStr = Field(
        default=SecretStr("recouvra-dev-secret-change-me"),
        validation_alias=AliasChoices("RECOUVRA_VAULT_S3_SECRET_KEY", "RECOUVRA_S3_SECRET_KEY"),
    )
    s3_secure: bool = False
    s3_region: str = "us-east-1"
    bucket: str = "recouvra-vault"
    # Multipart part size (S3 minimum 5 MiB): an upload holds at most three parts in memory.
    s3_part_size: int = Field(default=8 * 1024 * 1024, ge=5 * 1024 * 1024)
    chunk_size: int = Field(default=1024 * 1024, ge=1024, le=4 * 1024 * 1024)
    max_document_bytes: int = Field(default=2 * 1024 * 1024 * 1024, ge=1)
    # Local key source (development and tests); created on first start in development only.
    key_file: Path = DEV_KEY_FILE
    # A checkpoint is signed every N entries, and at least this often while entries arrive,
    # so the unsigned tail (which could be cut off unseen) stays short in count and in time.
    audit_checkpoint_every: int = Field(default=100, ge=1)
    audit_checkpoint_seconds: float = Field(default=300.0, gt=0)
    # Objects without a document row are swept once older than this: an upload in progress has
    # no row yet, so it must exceed the longest upload (its multipart start to its commit).
    # Each checkpoint is also anchored in this bucket, under Object Lock (COMPLIANCE) for this
    # long where the store supports it; the verifier checks the database against it.
    audit_anchor_bucket: str = "recouvra-vault-audit"
    audit_anchor_retention_days: int = Field(default=3650, ge=1)
    # The audit signing key's public half (base64, raw Ed25519), pinned at deploy time from
    # `python -m vault audit-public-key`: `verify-audit` needs only this, and the service
    # refuses to start when its signing key does not match it.
    audit_public_key: str = ""
    orphan_grace_seconds: float = Field(default=3600.0, ge=0)
    orphan_sweep_seconds: float = Field(default=3600.0, gt=0)
    # Swept objects wait this long under the quarantine prefix before they are deleted: time
    # for an operator to notice a sweep that went wrong and move them back.
    orphan_quarantine_seconds: float = Field(default=30 * 86400.0, ge=0)
    orphan_max_per_run: int = Field(default=1000, ge=1)
    # A sweep refuses to move anything when orphans exceed this share of the vault's objects
    # (and number more than the floor), or when the oldest document row is younger than the
    # oldest object by more than the margin: the database looks new, wrong or restored.
    orphan_max_share: float = Field(default=0.05, gt=0, le=1)
    orphan_share_floor: int = Field(default=10, ge=0)
    orphan_new_database_margin_seconds: float = Field(default=86400.0, ge=0)

    @model_validator(mode="after")
    def _refuse_weak_keys_outside_development(self) -> Self:
        """Placeholder or hand-made keys may protect test data only, never real documents."""
        if self.environment == "development" or not self.key_file.exists():
            return self
        weaknesses = load_key_file(self.key_file).weaknesses()
        if weaknesses:
            raise ValueError(f"key_file: refused in {self.environment}: " + "; ".join(weaknesses))
        return self
