"""Matching's settings (environment prefix RECOUVRA_MATCHING_)."""

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class MatchingSettings(ServiceSettings):
    """Settings of the matching service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_MATCHING_", extra="ignore")

    service_name: str = "matching"
    grpc_port: int = 17053
    database_url: SecretStr = dev_database_url("matching")
    migration_database_url: SecretStr = dev_migration_database_url("matching")

    bidding_minutes: float = Field(default=15.0, ge=0)
    provider_accept_hours: float = Field(default=48.0, gt=0)
    default_window_days: int = Field(default=45, ge=1, le=365)
    extension_days: int = Field(default=15, ge=0)
    max_extension_days: int = Field(default=30, ge=0)
    max_rounds: int = Field(default=3, ge=1)
    min_fee_percent: str = "1"
    max_fee_percent: str = "50"
    # Pseudo-cases of platform-average record every provider starts with (Beta prior).
    smoothing_prior_weight: int = Field(default=20, ge=1)
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    # The case-submitted and case-scored subscriptions: the broker holds a fetch until this many
    # bytes of facts are there (about 25 of them), or this long passed. Under load, fewer and
    # fuller transactions (less CPU a case); when quiet, a fact handled up to this much later.
    # A minimum of 1 byte answers at the first record, as every other subscription is.
    case_facts_fetch_min_bytes: int = Field(default=16384, ge=1)
    case_facts_fetch_max_wait_ms: int = Field(default=100, ge=0, le=500)
    # Development only: a file holding seconds to add to the wall clock (test-driven time).
    clock_offset_file: str = ""

    @model_validator(mode="after")
    def _test_clock_only_in_development(self) -> Self:
        if self.clock_offset_file and self.environment != "development":
            raise ValueError("clock_offset_file: a test clock is refused outside development")
        return self
