"""`python -m scoring [serve|migrate|train ...|explain SCORE_ID]`."""

import sys
from pathlib import Path

from recouvra_shared.runtime import run_cli
from scoring.bootstrap import build
from scoring.config import ScoringSettings

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


def main() -> None:
    """Run the scoring service, its training command or the explanation of a score."""
    if sys.argv[1:2] == ["train"]:
        from scoring.training import main as train

        train(sys.argv[2:])
        return
    if sys.argv[1:2] == ["explain"]:
        from scoring.explain import main as explain

        explain(sys.argv[2:])
        return
    run_cli(ScoringSettings, build, MIGRATIONS)


if __name__ == "__main__":
    main()
