"""`python -m intake [serve|migrate|retention|rates import FILE]`."""

import sys
from pathlib import Path

from intake import bootstrap
from intake.config import IntakeSettings
from recouvra_shared.runtime import run_cli

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the intake service, or import an ECB rate file into its database."""
    if sys.argv[1:2] == ["rates"]:
        from intake.entrypoints import rates_command

        rates_command.main(sys.argv[2:], import_rate_file=bootstrap.import_rate_file)
        return
    run_cli(IntakeSettings, bootstrap.build, MIGRATIONS)


if __name__ == "__main__":
    main()
