"""Gateway's settings (environment prefix RECOUVRA_GATEWAY_)."""

from limits import parse
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.http_server import KEEP_ALIVE_SECONDS
from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class GatewaySettings(ServiceSettings):
    """Settings of the gateway: its HTTP door and where the services answer."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    grpc_port: int = 17050
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # How long an idle keep-alive connection stays open: longer than the ingress or load
    # balancer in front keeps its own (recouvra_shared.http_server).
    http_keep_alive_seconds: int = Field(default=KEEP_ALIVE_SECONDS, ge=1)
    database_url: SecretStr = dev_database_url("gateway")
    migration_database_url: SecretStr = dev_migration_database_url("gateway")
    intake_target: str = "127.0.0.1:17051"
    scoring_target: str = "127.0.0.1:17052"
    matching_target: str = "127.0.0.1:17053"
    messaging_target: str = "127.0.0.1:17054"
    vault_target: str = "127.0.0.1:17055"
    settlement_target: str = "127.0.0.1:17056"
    # Signs the access tokens; the shared validator refuses this placeholder outside development.
    token_secret: SecretStr = SecretStr("dev-secret-change-me-in-production")
    token_audience: str = "recouvra-api"
    token_issuer: str = "recouvra-gateway"
    # Short-lived on purpose: a leaked token is useful for minutes, not days.
    token_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # Password guessing: this many failed log-ins for one email within the window lock it out
    # until the oldest of them leaves the window.
    login_max_failures: int = Field(default=10, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # Guesses spread over many addresses lock an e-mail out for everyone but the devices that
    # logged in to it before (a signed cookie), once they reach this many within the window.
    login_max_failures_per_email: int = Field(default=100, ge=1)
    # Password hashing (argon2id, 64 MiB each) never uses more memory than this at once: with
    # the default, two hashes run together and up to `password_hash_waiting` more wait.
    password_hash_memory_mib: int = Field(default=128, ge=64)
    password_hash_waiting: int = Field(default=64, ge=0)
    # Rate limits ("N/second|minute|hour|day"), per client address and for the whole replica.
    login_rate_per_address: str = "30/minute"
    login_rate_overall: str = "1200/minute"
    sign_up_rate_per_address: str = "60/hour"
    sign_up_rate_overall: str = "300/minute"
    key_creation_rate_per_address: str = "60/hour"
    key_creation_rate_overall: str = "300/minute"
    # Requests one credential (a bearer, an API key) may have in flight on one replica; past it
    # a request is answered 429 with Retry-After, before any work. 0: no limit.
    requests_in_flight_per_credential: int = Field(default=32, ge=0)
    # Who may tell the gateway a client's address (X-Forwarded-For): the ingress in front of it.
    # Comma-separated addresses or networks; "*" trusts everyone (never on a public port).
    forwarded_allow_ips: str = "127.0.0.1"

    def service_targets(self) -> dict[str, str]:
        """Every backing service and where its gRPC server answers."""
        return {
            "intake": self.intake_target,
            "scoring": self.scoring_target,
            "matching": self.matching_target,
            "messaging": self.messaging_target,
            "vault": self.vault_target,
            "settlement": self.settlement_target,
        }

    @field_validator(
        "login_rate_per_address",
        "login_rate_overall",
        "sign_up_rate_per_address",
        "sign_up_rate_overall",
        "key_creation_rate_per_address",
        "key_creation_rate_overall",
    )
    @classmethod
    def _rate_readable(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError as exc:
            raise ValueError(f"must read like '30/minute' ({exc})") from exc
        return value

    @field_validator("token_secret")
    @classmethod
    def _token_secret_long_enough(cls, value: SecretStr) -> SecretStr:
        # HMAC-SHA256 keys shorter than the hash output weaken the signature (RFC 7518 3.2).
        if len(value.get_secret_value().encode()) < 32:
            raise ValueError("token_secret: must be at least 32 bytes")
        return value
