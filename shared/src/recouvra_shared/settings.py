"""Service settings from environment variables, refusing placeholder secrets outside development.

Platform-wide values have fixed names (RECOUVRA_ENV, RECOUVRA_KAFKA_BOOTSTRAP); each service's
own values carry its prefix, e.g. RECOUVRA_INTAKE_DATABASE_URL, so one environment can hold the
settings of every service (as `make up` does).
"""

from __future__ import annotations

from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "dev-secret")
DEV_PASSWORDS = {"", "recouvra", "password", "postgres", "secret"}


def _is_placeholder(secret: str, extra: set[str]) -> bool:
    lowered = secret.lower()
    return lowered in DEV_PASSWORDS | extra or any(m in lowered for m in PLACEHOLDER_MARKERS)


class ServiceSettings(BaseSettings):
    """What every Recouvra service needs; a service subclasses it with its prefix and ports."""

    model_config = SettingsConfigDict(
        env_prefix="RECOUVRA_SERVICE_", extra="ignore", populate_by_name=True
    )

    service_name: str = "service"
    environment: Literal["development", "production"] = Field(
        default="development", validation_alias=AliasChoices("RECOUVRA_ENV")
    )
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("RECOUVRA_LOG_LEVEL"))
    kafka_bootstrap: str = Field(
        default="127.0.0.1:19092", validation_alias=AliasChoices("RECOUVRA_KAFKA_BOOTSTRAP")
    )
    # Prepended to every topic and consumer group name: several environments (or test runs)
    # can share one Kafka cluster without seeing each other's events.
    kafka_topic_prefix: str = Field(
        default="", validation_alias=AliasChoices("RECOUVRA_KAFKA_TOPIC_PREFIX")
    )
    kafka_partitions: int = Field(
        default=3, ge=1, validation_alias=AliasChoices("RECOUVRA_KAFKA_PARTITIONS")
    )
    kafka_replication: int = Field(
        default=1, ge=1, validation_alias=AliasChoices("RECOUVRA_KAFKA_REPLICATION")
    )
    database_url: SecretStr = SecretStr("")
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    shutdown_grace_seconds: float = 10.0

    # Signed caller identity (recouvra_shared.identity). Each process names its own private key;
    # every service trusts the same public keys (a directory, or a comma-separated list of
    # directories and files); only the issuers listed as asserting people may name a person.
    identity_signing_key: str = Field(
        default="", validation_alias=AliasChoices("RECOUVRA_IDENTITY_SIGNING_KEY")
    )
    identity_trusted_keys: str = Field(
        default="", validation_alias=AliasChoices("RECOUVRA_IDENTITY_TRUSTED_KEYS")
    )
    identity_people_issuers: str = Field(
        default="gateway", validation_alias=AliasChoices("RECOUVRA_IDENTITY_PEOPLE_ISSUERS")
    )
    identity_token_lifetime_seconds: int = Field(
        default=30,
        ge=1,
        le=60,
        validation_alias=AliasChoices("RECOUVRA_IDENTITY_TOKEN_LIFETIME_SECONDS"),
    )

    consumer_max_attempts: int = Field(default=5, ge=1)
    consumer_batch_size: int = Field(default=200, ge=1)
    # Records handled in one database transaction (each in its own savepoint); 1 = one each.
    consumer_transaction_size: int = Field(default=50, ge=1)
    consumer_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    consumer_backoff_max_seconds: float = Field(default=10.0, gt=0)

    relay_batch_size: int = Field(default=500, ge=1)
    relay_idle_poll_seconds: float = Field(default=0.05, gt=0)
    # A row Kafka refuses this many times for a fault of its own (too large, topic refused)
    # moves to outbox_dead_letters, so one bad row never stops a service's events.
    relay_max_attempts: int = Field(default=5, ge=1)
    # Sent outbox rows are kept this long for inspection, then deleted by the relay (hourly).
    outbox_retention_hours: float = Field(default=168, gt=0)
    # Handled event ids are kept this long, then deleted by the relay (hourly). It must outlast
    # the topics' retention (7 days): a record older than its inbox row can no longer come back.
    inbox_retention_days: float = Field(default=30, gt=7)
    # Fault injection for the crash tests: the relay kills its own process (SIGKILL) after
    # publishing this many batches and before marking them sent. 0 = off; refused in production.
    chaos_relay_kill_after_batches: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Self:
        if self.environment == "development":
            return self
        password = urlsplit(self.database_url.get_secret_value()).password or ""
        if _is_placeholder(password, {self.service_name}):
            raise ValueError(
                f"database_url: a placeholder password is refused in {self.environment}; "
                "set a real secret"
            )
        for name, value in self:
            secret = value.get_secret_value() if isinstance(value, SecretStr) else None
            if secret is not None and name != "database_url" and _is_placeholder(secret, set()):
                raise ValueError(f"{name}: a placeholder secret is refused in {self.environment}")
        if self.chaos_relay_kill_after_batches:
            raise ValueError(
                "chaos_relay_kill_after_batches: fault injection is refused in production"
            )
        return self

    @property
    def grpc_target(self) -> str:
        """host:port this service's gRPC server listens on."""
        return f"{self.grpc_host}:{self.grpc_port}"


def dev_database_url(service: str) -> SecretStr:
    """The local stack's database of a service (deploy/local), for development only."""
    return SecretStr(f"postgresql+asyncpg://{service}:{service}@127.0.0.1:15432/{service}")
