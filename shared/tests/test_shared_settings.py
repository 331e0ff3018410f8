"""Settings refuse placeholder secrets outside development."""

import pytest
from pydantic import ValidationError

from intake.config import IntakeSettings


def test_development_accepts_the_local_stack_defaults() -> None:
    settings = IntakeSettings(environment="development")
    assert settings.database_url.get_secret_value().startswith("postgresql+asyncpg://intake:")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://intake:intake@db:5432/intake",
        "postgresql+asyncpg://intake:change-me@db:5432/intake",
        "postgresql+asyncpg://intake@db:5432/intake",
    ],
)
def test_production_refuses_placeholder_database_passwords(url: str) -> None:
    with pytest.raises(ValidationError, match="database_url: a placeholder password is refused"):
        IntakeSettings(environment="production", database_url=url)


def test_production_accepts_a_real_secret_and_refuses_fault_injection() -> None:
    url = "postgresql+asyncpg://intake:Vq8w1n5Zr2Lp9x@db:5432/intake"
    assert IntakeSettings(environment="production", database_url=url).environment == "production"
    with pytest.raises(ValidationError, match="fault injection is refused"):
        IntakeSettings(environment="production", database_url=url, chaos_relay_kill_after_batches=1)


def test_environment_variables_use_the_service_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUVRA_INTAKE_GRPC_PORT", "6001")
    monkeypatch.setenv("RECOUVRA_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("RECOUVRA_KAFKA_TOPIC_PREFIX", "staging.")
    settings = IntakeSettings()
    assert (settings.grpc_port, settings.kafka_bootstrap) == (6001, "kafka:9092")
    assert settings.kafka_topic_prefix == "staging."
