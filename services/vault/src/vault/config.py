"""Vault's settings (environment prefix RECOUVRA_VAULT_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import ServiceSettings, dev_database_url


class VaultSettings(ServiceSettings):
    """Settings of the vault service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_VAULT_", extra="ignore")

    service_name: str = "vault"
    grpc_port: int = 50055
    database_url: SecretStr = dev_database_url("vault")
