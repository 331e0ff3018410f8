"""Matching's settings (environment prefix RECOUVRA_MATCHING_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import ServiceSettings, dev_database_url


class MatchingSettings(ServiceSettings):
    """Settings of the matching service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_MATCHING_", extra="ignore")

    service_name: str = "matching"
    grpc_port: int = 50053
    database_url: SecretStr = dev_database_url("matching")
