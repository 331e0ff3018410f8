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


REAL = "Vq8w1n5Zr2Lp9x"


def test_development_migrates_as_the_local_stacks_schema_owner() -> None:
    settings = IntakeSettings(environment="development")
    owner = settings.migration_database_url.get_secret_value()
    assert owner == "postgresql+asyncpg://intake_owner:intake_owner@127.0.0.1:15432/intake"


def test_production_never_falls_back_on_the_local_owner_and_refuses_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"postgresql+asyncpg://intake:{REAL}@db:5432/intake"
    # A running service has no owner URL at all: the local stack's default is not kept.
    running = IntakeSettings(environment="production", database_url=url)
    assert running.migration_database_url.get_secret_value() == ""
    with pytest.raises(ValidationError, match="migration_database_url: a placeholder password"):
        IntakeSettings(
            environment="production",
            database_url=url,
            migration_database_url="postgresql+asyncpg://intake_owner:intake_owner@db/intake",
        )
    owner = f"postgresql+asyncpg://intake_owner:{REAL}x@db:5432/intake"
    monkeypatch.setenv("RECOUVRA_INTAKE_MIGRATION_DATABASE_URL", owner)
    settings = IntakeSettings(environment="production", database_url=url)
    assert settings.migration_database_url.get_secret_value() == owner
