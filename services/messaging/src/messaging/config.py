"""Messaging's settings (environment prefix RECOUVRA_MESSAGING_)."""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
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
    grpc_port: int = 50054
    database_url: SecretStr = dev_database_url("messaging")
    migration_database_url: SecretStr = dev_migration_database_url("messaging")

    # Where the facts come from (gRPC, as service "messaging").
    intake_target: str = "127.0.0.1:50051"
    vault_target: str = "127.0.0.1:50055"
    settlement_target: str = "127.0.0.1:50056"
    # Names and addresses of holders and creditors until a service serves them (adapters/parties).
    parties_file: Path | None = None

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
