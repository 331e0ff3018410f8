"""Settlement's settings (environment prefix RECOUVRA_SETTLEMENT_)."""

from typing import Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.http_server import KEEP_ALIVE_SECONDS
from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)

# The French banks' published example account: right for development, never for real debtors.
EXAMPLE_IBAN = "FR7630006000011234567890189"
# The Bundesbank's published example SEPA creditor identifier: development only.
EXAMPLE_CREDITOR_ID = "DE98ZZZ09999999999"
# The local Bridge sandbox's credentials (python -m settlement.sandbox): development only.
SANDBOX_CLIENT_ID = "sandbox-client"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"
SANDBOX_WEBHOOK_SECRET = "sandbox-webhook-secret"
SANDBOX_URL = "http://127.0.0.1:18580"
# An example SIREN for the platform's invoices in development, refused elsewhere.
EXAMPLE_SIREN = "552100554"


class SettlementSettings(ServiceSettings):
    """Settings of the settlement service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_SETTLEMENT_", extra="ignore")

    service_name: str = "settlement"
    grpc_port: int = 17056
    database_url: SecretStr = dev_database_url("settlement")
    migration_database_url: SecretStr = dev_migration_database_url("settlement")
    # The client-money account debtors pay into (R124-2 CPCE), checked at start-up.
    client_money_beneficiary: str = "Recouvra SAS - fonds de tiers"
    client_money_iban: str = EXAMPLE_IBAN
    client_money_bic: str = "AGRIFRPP"
    # Payouts (README, "Payouts"): the hold after receipt, the smallest amount sent, the R124-6
    # warning age, and the platform's SEPA creditor identifier for direct debits of fees owed.
    payout_hold_business_days: int = Field(default=3, ge=0, le=15)
    payout_minimum_cents: int = Field(default=100, ge=1)
    held_funds_warning_days: int = Field(default=21, ge=1, le=30)
    # How long the invoice issuer rests when no invoice a fee calls for can be issued.
    invoice_issue_idle_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Empty: no direct debits (creditors owing fees are listed as receivables); development
    # uses the example.
    sepa_creditor_id: str = ""
    # The platform as its commission invoices name it (CGI 242 nonies A), checked at start-up.
    platform_legal_name: str = "Recouvra SAS"
    platform_address: str = "10 rue du Louvre"
    platform_postcode: str = "75001"
    platform_city: str = "Paris"
    platform_siren: str = EXAMPLE_SIREN
    platform_vat_number: str | None = "FR96552100554"
    # The platform's commission on each provider's fee (excl. VAT), and the referring partner's
    # share of that commission, in basis points (1500 = 15 %); see the README's "Fees".
    fee_commission_bp: int = 1_500
    # Intake, which answers the debtors' names the suspense queue's proposals compare with the
    # payer's ("Matching by name"); empty: no proposals.
    intake_target: str = "127.0.0.1:17051"
    referral_share_bp: int = 2_000
    # Pay by link (README, "Pay by link"): Bridge's API (version 2025-01-15) and its webhook
    # secrets (comma-separated: two while one is rotated). Development talks to the local sandbox;
    # production refuses to start without real credentials.
    bridge_api_url: str = SANDBOX_URL
    bridge_client_id: str = SANDBOX_CLIENT_ID
    bridge_client_secret: SecretStr = SecretStr(SANDBOX_CLIENT_SECRET)
    bridge_webhook_secrets: SecretStr = SecretStr(SANDBOX_WEBHOOK_SECRET)
    payment_link_expiry_days: int = Field(default=30, ge=1, le=90)
    # A notification signed further than this from now is refused (replays past it).
    webhook_tolerance_seconds: int = Field(default=300, ge=10, le=3600)
    # An announced payment no statement line matched within this is unwound and flagged.
    announcement_unmatched_hours: float = Field(default=96, gt=0)
    announcement_sweep_seconds: float = Field(default=60, gt=0)
    # The webhook endpoint (the only HTTP settlement serves); unset: not served (a test process,
    # an operator command), required in production. deploy/local/services.sh and k8s set 8056.
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    # Longer than the ingress in front keeps an idle connection (recouvra_shared.http_server).
    http_keep_alive_seconds: int = Field(default=KEEP_ALIVE_SECONDS, ge=1)

    @model_validator(mode="after")
    def _example_account_only_in_development(self) -> Self:
        iban = self.client_money_iban.replace(" ", "").upper()
        if iban == EXAMPLE_IBAN and self.environment != "development":
            raise ValueError(
                "client_money_iban: the example account is refused outside development"
            )
        if self.sepa_creditor_id == EXAMPLE_CREDITOR_ID and self.environment != "development":
            raise ValueError(
                "sepa_creditor_id: the example identifier is refused outside development"
            )
        if self.platform_siren == EXAMPLE_SIREN and self.environment != "development":
            raise ValueError("platform_siren: the example SIREN is refused outside development")
        if self.environment != "development":
            sandbox = {
                "bridge_client_id": (self.bridge_client_id, SANDBOX_CLIENT_ID),
                "bridge_client_secret": (
                    self.bridge_client_secret.get_secret_value(),
                    SANDBOX_CLIENT_SECRET,
                ),
                "bridge_webhook_secrets": (
                    self.bridge_webhook_secrets.get_secret_value(),
                    SANDBOX_WEBHOOK_SECRET,
                ),
            }
            for name, (value, example) in sandbox.items():
                if not value.strip() or example in value:
                    raise ValueError(
                        f"{name}: Bridge's real credentials are required outside development "
                        "(the sandbox's are refused)"
                    )
            if self.http_port is None:
                raise ValueError(
                    "http_port: Bridge's webhooks need settlement's HTTP endpoint in production"
                )
            if not self.bridge_api_url.startswith("https://"):
                raise ValueError(
                    "bridge_api_url: Bridge's API over https is required outside development "
                    "(the local sandbox is refused)"
                )
        return self

    @property
    def webhook_secrets(self) -> tuple[str, ...]:
        """Bridge's webhook secrets in force (two while one is rotated)."""
        secrets = self.bridge_webhook_secrets.get_secret_value().split(",")
        return tuple(s.strip() for s in secrets if s.strip())
