"""Scoring's settings (environment prefix RECOUVRA_SCORING_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import ServiceSettings, dev_database_url


class ScoringSettings(ServiceSettings):
    """Settings of the scoring service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_SCORING_", extra="ignore")

    service_name: str = "scoring"
    grpc_port: int = 50052
    database_url: SecretStr = dev_database_url("scoring")
