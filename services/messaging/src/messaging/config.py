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
    # The contact plans' durable timers: how often the due-steps table is polled.
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    # Development only: a file holding seconds to add to the wall clock (test-driven time).
    clock_offset_file: str = ""

    @model_validator(mode="after")
    def _test_clock_only_in_development(self) -> Self:
        if self.clock_offset_file and self.environment != "development":
            raise ValueError("clock_offset_file: a test clock is refused outside development")
        return self
