"""`python -m gateway [serve|migrate]`."""

from pathlib import Path

from gateway.bootstrap import build
from gateway.config import GatewaySettings
from recouvra_shared.runtime import run_cli

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the gateway service."""
    run_cli(GatewaySettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
