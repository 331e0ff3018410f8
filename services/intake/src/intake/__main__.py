"""`python -m intake [serve|migrate]`."""

from pathlib import Path

from intake.bootstrap import build
from intake.config import IntakeSettings
from recouvra_shared.runtime import run_cli

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the intake service."""
    run_cli(IntakeSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
