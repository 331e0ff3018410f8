"""`python -m gateway [serve|migrate|retention]`, and `python -m gateway operators ...`."""

import sys
from pathlib import Path

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the gateway service, or one of its operators commands (which load no web server)."""
    if sys.argv[1:2] == ["operators"]:
        from gateway.entrypoints.cli import main as operators

        operators(sys.argv[2:])
        return
    from gateway.bootstrap import build
    from gateway.config import GatewaySettings
    from recouvra_shared.runtime import run_cli

    run_cli(GatewaySettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
