"""Gateway's settings (environment prefix RECOUVRA_GATEWAY_)."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from recouvra_shared.settings import ServiceSettings, dev_database_url


class GatewaySettings(ServiceSettings):
    """Settings of the gateway: its HTTP door and where the services answer."""

    model_config = SettingsConfigDict(env_prefix="RECOUVRA_GATEWAY_", extra="ignore")

    service_name: str = "gateway"
    grpc_port: int = 50050
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    database_url: SecretStr = dev_database_url("gateway")
    intake_target: str = "127.0.0.1:50051"
    scoring_target: str = "127.0.0.1:50052"
    matching_target: str = "127.0.0.1:50053"
    messaging_target: str = "127.0.0.1:50054"
    vault_target: str = "127.0.0.1:50055"
    settlement_target: str = "127.0.0.1:50056"

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
