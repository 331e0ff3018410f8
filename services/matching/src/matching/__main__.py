"""`python -m matching [serve|migrate|retention]`."""

from pathlib import Path

from matching.bootstrap import build
from matching.config import MatchingSettings
from recouvra_shared.runtime import run_cli

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the matching service."""
    run_cli(MatchingSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
