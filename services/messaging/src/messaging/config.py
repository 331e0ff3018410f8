"""Messaging's settings (environment prefix RECOUVRA_MESSAGING_)."""

from pathlib import Path
from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)


class MessagingSettings(ServiceSettings):
    """Settings of the messaging service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_MESSAGING_", extra="ignore")

    service_name: str = "messaging"
    grpc_port: int = 17054
    database_url: SecretStr = dev_database_url("messaging")
    migration_database_url: SecretStr = dev_migration_database_url("messaging")

    # Webhooks: development may post to http and to loopback or private addresses (a receiver
    # on this machine); refused outside development, where targets must be public https.
    webhooks_allow_private_targets: bool = False
    # Seals the endpoints' signing secrets in the database (>= 32 bytes; the shared validator
    # refuses this placeholder outside development).
    webhooks_secrets_key: SecretStr = SecretStr("dev-webhook-secrets-key-change-me-0123456789")
    webhooks_poll_seconds: float = 1.0
    webhooks_timeout_seconds: float = 10.0

    @model_validator(mode="after")
    def _private_webhook_targets_in_development_only(self) -> Self:
        if self.webhooks_allow_private_targets and self.environment != "development":
            raise ValueError(
                f"webhooks_allow_private_targets: refused in {self.environment} (SSRF)"
            )
        return self

    # The contact plans' durable timers: how often the due-steps table is polled.
    timer_poll_seconds: float = Field(default=1.0, gt=0)
    # How many due steps are fired side by side (each its own transaction, then its dispatch).
    timer_workers: int = Field(default=4, ge=1, le=32)
    # Development only: a file holding seconds to add to the wall clock (test-driven time).
    clock_offset_file: str = ""

    @model_validator(mode="after")
    def _test_clock_only_in_development(self) -> Self:
        if self.clock_offset_file and self.environment != "development":
            raise ValueError("clock_offset_file: a test clock is refused outside development")
        return self

    # Where the facts come from (gRPC, as service "messaging").
    intake_target: str = "127.0.0.1:17051"
    vault_target: str = "127.0.0.1:17055"
    settlement_target: str = "127.0.0.1:17056"
    # Names and addresses of holders and creditors until a service serves them (adapters/parties).
    parties_file: Path | None = None
    # A thread notice whose sender died is sent again (if the mail log lacks it) after this.
    thread_notice_lease_seconds: float = Field(default=120.0, gt=0)

    # E-mail: the SMTP server (the stack's Mailpit locally: `stack.sh env` exports these).
    smtp_host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("RECOUVRA_MESSAGING_SMTP_HOST", "RECOUVRA_SMTP_HOST"),
    )
    smtp_port: int = Field(
        default=11025,
        validation_alias=AliasChoices("RECOUVRA_MESSAGING_SMTP_PORT", "RECOUVRA_SMTP_PORT"),
    )
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = False
    sender: str = "recouvrement@recouvra.local"
    sender_name: str = "Recouvra"
    # The right-hand side of every Message-ID.
    mail_domain: str = "recouvra.local"
    # The mail system's log and the bounce mailbox (Mailpit's API locally).
    mailpit_url: str = Field(
        default="http://127.0.0.1:18025",
        validation_alias=AliasChoices("RECOUVRA_MESSAGING_MAILPIT_URL", "RECOUVRA_MAILPIT_URL"),
    )
    bounce_address: str = "bounces@recouvra.local"
    bounce_poll_seconds: float = 10.0

    # Letters (print and post) and texts (SMS): local folders standing for the providers.
    letters_dir: Path = Path("var/messaging/letters")
    sms_file: Path = Path("var/messaging/sms.jsonl")

    # The debtor portal's signed links; the placeholder is refused outside development.
    portal_base_url: str = "http://127.0.0.1:8000"
    portal_secret: SecretStr = SecretStr("dev-secret-change-me-portal-links")
