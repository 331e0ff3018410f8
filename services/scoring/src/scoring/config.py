"""Scoring's settings (environment prefix RECOUVRA_SCORING_)."""

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)
from scoring.adapters.registry import DEFAULT_REGISTRY_FILE


class ScoringSettings(ServiceSettings):
    """Settings of the scoring service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_SCORING_", extra="ignore")

    service_name: str = "scoring"
    grpc_port: int = 17052
    database_url: SecretStr = dev_database_url("scoring")
    migration_database_url: SecretStr = dev_migration_database_url("scoring")
    # Offline SIRENE + BODACC extract; the production registry client is not built yet.
    company_registry_file: Path = DEFAULT_REGISTRY_FILE
    # Where refitted model versions are kept (python -m scoring train --model-dir); without
    # it the built-in scorecard is used.
    model_dir: Path | None = None
    # Intake, which answers a business debtor's SIREN for each submitted case (GetDebtorSiren):
    # it is no longer on the bus (issue 12). Called over mutual TLS as scoring itself.
    intake_target: str = "127.0.0.1:17051"
