"""Messaging's settings (environment prefix RECOUVRA_MESSAGING_)."""

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class MessagingSettings(ServiceSettings):
    """Settings of the messaging service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_MESSAGING_", extra="ignore")

    service_name: str = "messaging"
    grpc_port: int = 50054
    database_url: SecretStr = dev_database_url("messaging")
    migration_database_url: SecretStr = dev_migration_database_url("messaging")

    # Webhooks: development may post to http and to loopback or private addresses (a receiver
    # on this machine); refused outside development, where targets must be public https.
    webhooks_allow_private_targets: bool = False
    # Seals the endpoints' signing secrets in the database (>= 32 bytes; the shared validator
    # refuses this placeholder outside development).
    webhooks_secrets_key: SecretStr = SecretStr("dev-webhook-secrets-key-change-me-0123456789")
    webhooks_poll_seconds: float = 1.0
    webhooks_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _private_webhook_targets_in_development_only(self) -> Self:
        if self.webhooks_allow_private_targets and self.environment != "development":
            raise ValueError(
                f"webhooks_allow_private_targets: refused in {self.environment} (SSRF)"
            )
        return self

    # The contact plans' durable timers: how often the due-steps table is polled.
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    # Development only: a file holding seconds to add to the wall clock (test-driven time).
    clock_offset_file: str = ""

    @model_validator(mode="after")
    def _test_clock_only_in_development(self) -> Self:
        if self.clock_offset_file and self.environment != "development":
            raise ValueError("clock_offset_file: a test clock is refused outside development")
        return self
