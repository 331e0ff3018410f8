"""Intake's settings (environment prefix RECOUVRA_INTAKE_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class IntakeSettings(ServiceSettings):
    """Settings of the intake service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_INTAKE_", extra="ignore")

    service_name: str = "intake"
    grpc_port: int = 17051
    database_url: SecretStr = dev_database_url("intake")
    migration_database_url: SecretStr = dev_migration_database_url("intake")
    # Keys the debtor's pseudonym on case-submitted (`debtor_key`); the development value is a
    # placeholder, refused outside development. Changing it splits old and new cases' keys.
    debtor_key_secret: SecretStr = SecretStr("dev-secret-intake-debtor-key")
