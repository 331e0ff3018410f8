"""Settlement's settings (environment prefix RECOUVRA_SETTLEMENT_)."""

from typing import Self

from pydantic import SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import (
    ServiceSettings,
    dev_database_url,
    dev_migration_database_url,
)

# The French banks' published example account: right for development, never for real debtors.
EXAMPLE_IBAN = "FR7630006000011234567890189"


class SettlementSettings(ServiceSettings):
    """Settings of the settlement service."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_SETTLEMENT_", extra="ignore")

    service_name: str = "settlement"
    grpc_port: int = 50056
    database_url: SecretStr = dev_database_url("settlement")
    migration_database_url: SecretStr = dev_migration_database_url("settlement")
    # The client-money account debtors pay into (R124-2 CPCE), checked at start-up.
    client_money_beneficiary: str = "Recouvra SAS - fonds de tiers"
    client_money_iban: str = EXAMPLE_IBAN
    client_money_bic: str = "AGRIFRPP"
    # The platform's commission on each provider's fee (excl. VAT), and the referring partner's
    # share of that commission, in basis points (1500 = 15 %); see the README's "Fees".
    fee_commission_bp: int = 1_500
    referral_share_bp: int = 2_000

    @model_validator(mode="after")
    def _example_account_only_in_development(self) -> Self:
        iban = self.client_money_iban.replace(" ", "").upper()
        if iban == EXAMPLE_IBAN and self.environment != "development":
            raise ValueError(
                "client_money_iban: the example account is refused outside development"
            )
        return self
