"""The migrate command runs as the schema owner, and only on the runtime role's database."""

from pathlib import Path

import pytest

from intake import bootstrap
from intake.config import IntakeSettings
from recouvra_shared.db_roles import migrate
from recouvra_shared.runtime import run_cli


@pytest.fixture(autouse=True)
def _intake_debtor_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake's own production secret, beside the ones these tests are about."""
    monkeypatch.setenv("RECOUVRA_INTAKE_DEBTOR_KEY_SECRET", "Kd7-debtor-key-real-secret-0123456789")


REAL = "Vq8w1n5Zr2Lp9x"


def test_migrate_refuses_an_owner_url_aimed_at_another_database(tmp_path: Path) -> None:
    # As when a test points the runtime URL at its own database and leaves the owner's default.
    with pytest.raises(ValueError, match="name different databases"):
        migrate(
            tmp_path,
            "postgresql+asyncpg://intake_owner:o@127.0.0.1:15432/intake",
            "postgresql+asyncpg://t_intake_1:r@127.0.0.1:15432/t_intake_1",
        )


def test_production_will_not_migrate_as_the_runtime_role(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RECOUVRA_ENV", "production")
    monkeypatch.setenv("RECOUVRA_INTAKE_DATABASE_URL", f"postgresql+asyncpg://intake:{REAL}@db/i")
    monkeypatch.setenv("RECOUVRA_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RECOUVRA_INTAKE_KAFKA_PASSWORD", "Tq4-kafka-real-Vb9n")
    with pytest.raises(SystemExit, match="RECOUVRA_INTAKE_MIGRATION_DATABASE_URL"):
        run_cli(IntakeSettings, bootstrap.build, tmp_path, ["migrate"])
