"""Settlement hands the runtime its own unit of work, the one its event handlers will receive."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from recouvra_shared.db import Database
from recouvra_shared.errors import InvalidField, InvalidRequest
from recouvra_shared.runtime import Wiring
from settlement.adapters.unit_of_work import SqlSettlementUnitOfWork
from settlement.bootstrap import build, platform_party_of
from settlement.config import SettlementSettings
from settlement.service_layer.unit_of_work import SettlementUnitOfWork


async def test_the_runtime_gets_settlements_own_unit_of_work() -> None:
    settings = SettlementSettings()
    database = Database.connect(settings.database_url.get_secret_value())  # connects nothing yet
    try:
        parts = build(Wiring(settings=settings, database=database, broker=None))
        assert parts.unit_of_work is not None
        uow: SettlementUnitOfWork = parts.unit_of_work()
        assert isinstance(uow, SqlSettlementUnitOfWork)
    finally:
        await database.dispose()


# What production needs besides: Kafka over SASL_SSL with a real password.
PRODUCTION_KAFKA = {"kafka_security_protocol": "SASL_SSL", "kafka_password": "Tq4-kafka-real-Vb9n"}
# ...and Bridge's real credentials (the sandbox's are refused there).
PRODUCTION_BRIDGE = {
    "bridge_client_id": "app-7f3e",
    "bridge_client_secret": "Zq8-bridge-real-4Lm",
    "bridge_webhook_secrets": "whsec-real-9Hx",
    "http_port": "8056",
    "bridge_api_url": "https://api.bridgeapi.io",
}


def test_production_refuses_to_talk_to_the_local_bridge_sandbox() -> None:
    settings = {
        "environment": "production",
        "database_url": "postgresql+asyncpg://s:x@h/s",
        **PRODUCTION_KAFKA,
        **PRODUCTION_BRIDGE,
        "client_money_iban": "DE89370400440532013000",
        "client_money_bic": "COBADEFF",
        "platform_siren": "732829320",
        "bridge_api_url": "http://127.0.0.1:18580",
    }
    with pytest.raises(ValidationError, match="bridge_api_url: Bridge's API over https"):
        SettlementSettings(**settings)  # type: ignore[arg-type]


def test_the_example_client_money_account_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="client_money_iban: the example account is refused"):
        SettlementSettings(
            environment="production",
            database_url="postgresql+asyncpg://s:x@h/s",
            **PRODUCTION_KAFKA,
        )
    real = SettlementSettings(
        environment="production",
        database_url="postgresql+asyncpg://s:x@h/s",
        **PRODUCTION_KAFKA,
        **PRODUCTION_BRIDGE,  # type: ignore[arg-type]
        client_money_iban="DE89370400440532013000",
        client_money_bic="COBADEFF",
        platform_siren="732829320",
    )
    assert real.client_money_iban == "DE89370400440532013000"


def test_an_invalid_client_money_account_stops_the_service_at_start() -> None:
    settings = SettlementSettings(client_money_iban="FR7630006000011234567890188")
    with pytest.raises(InvalidField, match="client_money_iban"):
        build(Wiring(settings=settings, database=None, broker=None))  # type: ignore[arg-type]


def test_the_platforms_invoicing_identity_is_checked_at_start() -> None:
    assert platform_party_of(SettlementSettings()).siren == "552100554"
    with pytest.raises(InvalidRequest) as refused:
        platform_party_of(SettlementSettings(platform_siren="552100555", platform_vat_number="FR1"))
    assert [v.field for v in refused.value.violations] == ["platform.siren", "platform.vat_number"]
    with pytest.raises(ValidationError, match="platform_siren: the example SIREN is refused"):
        SettlementSettings(
            environment="production",
            database_url="postgresql+asyncpg://s:x@h/s",
            **PRODUCTION_KAFKA,
            client_money_iban="DE89370400440532013000",
            client_money_bic="COBADEFF",
        )
