"""`python -m scoring [serve|migrate]`."""

from pathlib import Path

from recouvra_shared.runtime import run_cli
from scoring.bootstrap import build
from scoring.config import ScoringSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the scoring service."""
    run_cli(ScoringSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
