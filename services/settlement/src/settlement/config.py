"""Settlement's settings (environment prefix RECOUVRA_SETTLEMENT_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class SettlementSettings(ServiceSettings):
    """Settings of the settlement service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_SETTLEMENT_", extra="ignore")

    service_name: str = "settlement"
    grpc_port: int = 50056
    database_url: SecretStr = dev_database_url("settlement")
    migration_database_url: SecretStr = dev_migration_database_url("settlement")
