"""Service settings from environment variables, refusing placeholder secrets outside development.

Platform-wide values have fixed names (RECOUVRA_ENV, RECOUVRA_KAFKA_BOOTSTRAP); each service's
own values carry its prefix, e.g. RECOUVRA_INTAKE_DATABASE_URL, so one environment can hold the
settings of every service (as `make up` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "dev-secret")
DEV_PASSWORDS = {"", "recouvra", "password", "postgres", "secret"}
DATABASE_URLS = ("database_url", "migration_database_url")


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
    # SASL_SSL: SCRAM-SHA-512 inside TLS, checked against this CA (the system's when empty).
    # PLAINTEXT is for development only and refused in production.
    kafka_security_protocol: Literal["PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", validation_alias=AliasChoices("RECOUVRA_KAFKA_SECURITY_PROTOCOL")
    )
    kafka_ca_file: str = Field(default="", validation_alias=AliasChoices("RECOUVRA_KAFKA_CA_FILE"))
    # The service's own Kafka user, e.g. RECOUVRA_MATCHING_KAFKA_PASSWORD; the user name
    # defaults to the service's name.
    kafka_username: str = ""
    kafka_password: SecretStr = SecretStr("")
    # The runtime role's URL: rows only (recouvra_shared.db_roles).
    database_url: SecretStr = SecretStr("")
    # The schema owner's URL, used by `migrate` alone; empty: migrate as the runtime role.
    migration_database_url: SecretStr = SecretStr("")
    grpc_host: str = "127.0.0.1"
    # Each service's default is its local port, 17050 + n (deploy/local/services.sh): below the
    # kernel's ephemeral range (32768-60999), which hands ports out to outgoing connections, so a
    # restart never finds its port taken by a Kafka client's socket. Kubernetes sets 5005n.
    grpc_port: int = 0
    # A second, plain-text port answering only grpc.health.v1, for probes that cannot present a
    # client certificate (the kubelet's); None = none. The business port is mutual TLS only.
    grpc_health_port: int | None = None
    shutdown_grace_seconds: float = 10.0
    # Python's garbage collector (gc.set_threshold), set once the service is built, after what it
    # built is moved out of the collector's reach (gc.freeze; recouvra_shared.gc_tuning). The
    # interpreter's default, (700, 10, 10), walks every live object about every 70,000
    # allocations: tens of milliseconds, the tail of a request's latency under load.
    gc_thresholds: tuple[int, int, int] = (50_000, 20, 10)
    # Processes answering gRPC on the one port (gRPC sets SO_REUSEPORT: the kernel spreads new
    # connections over them), for a host with spare cores: one event loop under one interpreter
    # lock is one core's worth of Python. The first process also runs everything else (consumers,
    # relay, retention, the service-wide readings); the others answer gRPC only, die with it and
    # are started again when they die alone (`recouvra_shared.grpc_processes`). Only a service
    # whose gRPC handlers keep nothing in process accepts more than 1 (scoring).
    grpc_processes: int = Field(default=1, ge=1, le=16)
    # /metrics of the 2nd, 3rd... gRPC process, one port each (the first serves on metrics_port);
    # as many as grpc_processes - 1 when metrics_port names a port (0: any free port each).
    grpc_process_metrics_ports: list[int] = Field(default_factory=list)
    # Prometheus metrics (recouvra_shared.metrics) on http://<metrics_host>:<metrics_port>/metrics,
    # e.g. RECOUVRA_INTAKE_METRICS_PORT; None = not served. Readings from the database and Kafka
    # are sampled every metrics_sample_seconds.
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    metrics_sample_seconds: float = Field(default=15.0, gt=0)

    # Mutual TLS for gRPC (recouvra_shared.tls): the CA bundle every peer must chain to, and this
    # process's own certificate and key (PEM files), presented as a server and as a client.
    tls_ca_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("RECOUVRA_TLS_CA_FILE")
    )
    tls_cert_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("RECOUVRA_TLS_CERT_FILE")
    )
    tls_key_file: Path | None = Field(
        default=None, validation_alias=AliasChoices("RECOUVRA_TLS_KEY_FILE")
    )
    # Restart gracefully (after a random delay) when the files above change on disk, to present
    # a renewed certificate: for a supervisor that starts the process again (Kubernetes).
    tls_restart_on_renewal: bool = Field(
        default=False, validation_alias=AliasChoices("RECOUVRA_TLS_RESTART_ON_RENEWAL")
    )
    # Development only: serve and call gRPC in plain text. Without it (or the files above) a
    # service refuses to start; in production it is refused.
    tls_insecure: bool = Field(
        default=False, validation_alias=AliasChoices("RECOUVRA_TLS_INSECURE")
    )
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
    # Records fetched at once; their offsets are committed together after their transaction.
    # 1000 spends less CPU per event (docs/performance.md) but holds a batch's effects, locks and
    # latency until its last record: a consumer commits 1000 cases at once and a crash test can
    # no longer stop it mid-stream. Kept at 200 until latency is measured with it.
    consumer_batch_size: int = Field(default=200, ge=1)
    # Records handled in one database transaction: by default a whole fetched batch, one commit.
    consumer_transaction_size: int = Field(default=200, ge=1)
    consumer_backoff_initial_seconds: float = Field(default=0.2, gt=0)
    consumer_backoff_max_seconds: float = Field(default=10.0, gt=0)

    # Outbox rows read by one select of the relay and handed to Kafka together.
    relay_batch_size: int = Field(default=1000, ge=1)
    # Batches one relay transaction may take (one advisory lock, one update, one commit): the
    # next batch is read while Kafka acknowledges the one before it, and handed over only once
    # all of it was acknowledged. A relay killed mid-transaction publishes them all again.
    relay_batches_per_transaction: int = Field(default=4, ge=1)
    # A commit of the service's own process wakes its relay at once; this poll only finds rows
    # written by another process (a replica that stopped, a command): every 50 ms cost each
    # idle service a tenth of a core (docs/performance.md, the whole pipeline).
    relay_idle_poll_seconds: float = Field(default=1.0, gt=0)
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
    # Fault injection for the chaos harness (tests/chaos): the inbox forgets which events it
    # handled, so a redelivered event runs its handler again. Off; refused in production.
    chaos_inbox_without_idempotency: bool = False

    @model_validator(mode="after")
    def _refuse_partial_tls(self) -> Self:
        files = {
            "tls_ca_file": self.tls_ca_file,
            "tls_cert_file": self.tls_cert_file,
            "tls_key_file": self.tls_key_file,
        }
        missing = [name for name, path in files.items() if path is None]
        if missing and len(missing) < len(files):
            raise ValueError(f"{', '.join(missing)}: mutual TLS needs the CA, certificate and key")
        return self

    @model_validator(mode="after")
    def _refuse_unscraped_grpc_processes(self) -> Self:
        extra = self.grpc_processes - 1
        if self.metrics_port and len(self.grpc_process_metrics_ports) != extra:
            raise ValueError(
                f"grpc_process_metrics_ports: {extra} port(s) needed, one for each gRPC process "
                f"after the first (grpc_processes is {self.grpc_processes}, metrics_port is set); "
                f"got {len(self.grpc_process_metrics_ports)}"
            )
        return self

    @model_validator(mode="after")
    def _refuse_placeholders_outside_development(self) -> Self:
        if self.environment == "development":
            return self
        if self.tls_insecure:
            raise ValueError(f"tls_insecure: plain-text gRPC is refused in {self.environment}")
        if "migration_database_url" not in self.model_fields_set:
            # A service's default is the local stack's owner: never meant outside development.
            self.migration_database_url = SecretStr("")
        dev_passwords = {self.service_name, f"{self.service_name}_owner"}
        for name in DATABASE_URLS:
            url = getattr(self, name).get_secret_value()
            if name == "migration_database_url" and not url:
                continue  # only the migrate command needs it, and refuses to run without it
            if _is_placeholder(urlsplit(url).password or "", dev_passwords):
                raise ValueError(
                    f"{name}: a placeholder password is refused in {self.environment}; "
                    "set a real secret"
                )
        for name, value in self:
            secret = value.get_secret_value() if isinstance(value, SecretStr) else None
            if secret is not None and name not in DATABASE_URLS and _is_placeholder(secret, set()):
                raise ValueError(f"{name}: a placeholder secret is refused in {self.environment}")
        if self.kafka_security_protocol != "SASL_SSL":
            raise ValueError(
                f"kafka_security_protocol: {self.kafka_security_protocol} is refused in "
                f"{self.environment}; use SASL_SSL"
            )
        if self.chaos_relay_kill_after_batches:
            raise ValueError(
                "chaos_relay_kill_after_batches: fault injection is refused in production"
            )
        if self.chaos_inbox_without_idempotency:
            raise ValueError(
                "chaos_inbox_without_idempotency: fault injection is refused in production"
            )
        return self

    @property
    def grpc_target(self) -> str:
        """host:port this service's gRPC server listens on."""
        return f"{self.grpc_host}:{self.grpc_port}"

    @property
    def grpc_health_target(self) -> str | None:
        """host:port of the plain health-only port, if there is one."""
        if self.grpc_health_port is None:
            return None
        return f"{self.grpc_host}:{self.grpc_health_port}"


def dev_database_url(service: str) -> SecretStr:
    """The local stack's database of a service (deploy/local), for development only."""
    return SecretStr(f"postgresql+asyncpg://{service}:{service}@127.0.0.1:15432/{service}")


def dev_migration_database_url(service: str) -> SecretStr:
    """The local stack's schema owner of a service's database (deploy/local), for development."""
    owner = f"{service}_owner"
    return SecretStr(f"postgresql+asyncpg://{owner}:{owner}@127.0.0.1:15432/{service}")
