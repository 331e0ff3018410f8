"""`python -m scoring [serve|migrate|train ...|explain SCORE_ID]`."""

import sys
from pathlib import Path

from recouvra_shared.runtime import run_cli
from scoring import bootstrap
from scoring.config import ScoringSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the scoring service, its training command or the explanation of a score."""
    if sys.argv[1:2] == ["train"]:
        from scoring.entrypoints import train_command

        train_command.main(
            sys.argv[2:],
            model_store_at=bootstrap.model_store_at,
            platform_ended_cases=bootstrap.read_platform_ended_cases,
        )
        return
    if sys.argv[1:2] == ["explain"]:
        from scoring.entrypoints import explain_command

        explain_command.main(sys.argv[2:], reproduce=bootstrap.reproduce_stored_score)
        return
    run_cli(ScoringSettings, bootstrap.build, MIGRATIONS)


if __name__ == "__main__":
    main()
