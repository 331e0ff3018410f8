"""The token signing secret: a placeholder only in development, never a short key."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.config import GatewaySettings

REAL_DB = "postgresql+asyncpg://gateway:Zq8-real-Password@db:5432/gateway"


def test_the_placeholder_secret_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECOUVRA_GATEWAY_TOKEN_SECRET", raising=False)
    monkeypatch.setenv("RECOUVRA_ENV", "production")
    monkeypatch.setenv("RECOUVRA_GATEWAY_DATABASE_URL", REAL_DB)
    monkeypatch.setenv("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RECOUVRA_GATEWAY_KAFKA_PASSWORD", "Pw7-kafka-real-Zx2q")
    with pytest.raises(ValidationError, match="token_secret: a placeholder secret is refused"):
        GatewaySettings()
    monkeypatch.setenv("RECOUVRA_GATEWAY_TOKEN_SECRET", "k3Jx9Qw7Lm2Np5Rt8Vy1Zb4Cd6Fg0Hj3")
    assert GatewaySettings().token_secret.get_secret_value().startswith("k3Jx")


def test_a_short_signing_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUVRA_GATEWAY_TOKEN_SECRET", "too-short")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        GatewaySettings()
