"""`python -m messaging [serve|migrate|retention]`."""

from pathlib import Path

from messaging.bootstrap import build
from messaging.config import MessagingSettings
from recouvra_shared.runtime import run_cli

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the messaging service."""
    run_cli(MessagingSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
