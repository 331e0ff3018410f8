"""`python -m settlement [serve|migrate]`."""

from pathlib import Path

from recouvra_shared.runtime import run_cli
from settlement.bootstrap import build
from settlement.config import SettlementSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the settlement service."""
    run_cli(SettlementSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
