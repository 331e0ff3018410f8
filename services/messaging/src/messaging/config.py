"""Messaging's settings (environment prefix RECOUVRA_MESSAGING_)."""

from pydantic import SecretStr
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
