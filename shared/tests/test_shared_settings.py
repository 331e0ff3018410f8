"""Settings refuse placeholder secrets outside development."""

import certifi
import pytest
from pydantic import ValidationError

from intake.config import IntakeSettings
from recouvra_shared.kafka_security import KafkaConnection


@pytest.fixture(autouse=True)
def _intake_debtor_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake's own production secret, beside the ones these tests are about."""
    monkeypatch.setenv("RECOUVRA_INTAKE_DEBTOR_KEY_SECRET", "Kd7-debtor-key-real-secret-0123456789")


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


REAL_URL = "postgresql+asyncpg://intake:Vq8w1n5Zr2Lp9x@db:5432/intake"
SASL = {"kafka_security_protocol": "SASL_SSL", "kafka_password": "Hw3-kafka-Zq8p1Lx"}


def test_production_accepts_a_real_secret_and_refuses_fault_injection() -> None:
    settings = IntakeSettings(environment="production", database_url=REAL_URL, **SASL)
    assert settings.environment == "production"
    with pytest.raises(ValidationError, match="fault injection is refused"):
        IntakeSettings(
            environment="production",
            database_url=REAL_URL,
            chaos_relay_kill_after_batches=1,
            **SASL,
        )
    with pytest.raises(ValidationError, match="chaos_inbox_without_idempotency: fault injection"):
        IntakeSettings(
            environment="production",
            database_url=REAL_URL,
            chaos_inbox_without_idempotency=True,
            **SASL,
        )


def test_production_refuses_plaintext_kafka_and_a_missing_kafka_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The defaults, whatever the shell exported (the dev stack's env sets SASL_SSL).
    for name in ("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "RECOUVRA_KAFKA_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("RECOUVRA_INTAKE_KAFKA_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="kafka_security_protocol: PLAINTEXT is refused"):
        IntakeSettings(
            environment="production", database_url=REAL_URL, kafka_password="Hw3-kafka-Zq8p1Lx"
        )
    with pytest.raises(ValidationError, match="kafka_password: a placeholder secret is refused"):
        IntakeSettings(
            environment="production", database_url=REAL_URL, kafka_security_protocol="SASL_SSL"
        )


def test_a_service_connects_to_kafka_as_its_own_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RECOUVRA_KAFKA_CA_FILE", certifi.where())
    monkeypatch.setenv("RECOUVRA_INTAKE_KAFKA_PASSWORD", "intake-secret")
    monkeypatch.setenv("RECOUVRA_SCORING_KAFKA_PASSWORD", "scoring-secret")
    options = KafkaConnection.of(IntakeSettings()).client_options()
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "intake",
        "intake-secret",
    )
    assert (options["security_protocol"], options["sasl_mechanism"]) == (
        "SASL_SSL",
        "SCRAM-SHA-512",
    )
    assert options["ssl_context"].check_hostname  # the broker's name is checked


def test_sasl_without_credentials_is_refused_before_any_connection() -> None:
    with pytest.raises(ValueError, match="SASL_SSL needs a username and a password"):
        KafkaConnection("kafka:9093", "SASL_SSL", "intake", "")


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
    monkeypatch.setenv("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RECOUVRA_INTAKE_KAFKA_PASSWORD", "Tq4-kafka-real-Vb9n")
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
