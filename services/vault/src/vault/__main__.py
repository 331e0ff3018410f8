"""`python -m vault [serve|migrate]`."""

from pathlib import Path

from recouvra_shared.runtime import run_cli
from vault.bootstrap import build
from vault.config import VaultSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the vault service."""
    run_cli(VaultSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
