"""`python -m scoring explain SCORE_ID`: an operator's view of one stored score, recomputed.

Prints the stored inputs, the features, each feature's weight in the score and the stored
result, then recomputes the score from those inputs with the model version it names and says
whether the two agree. Operators only: the inputs hold the debtor's cross-creditor counts,
which the creditor API never shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import asdict
from typing import Any, TextIO

from scoring.domain.features import FEATURES
from scoring.service_layer.explanations import Reproduction

Reproduce = Callable[[str], Coroutine[Any, Any, Reproduction | None]]


def write_report(found: Reproduction, out: TextIO) -> None:
    """The stored score, what made it and whether it recomputes, as JSON."""
    stored, model = found.stored, found.model
    assert stored.inputs is not None
    contributions = {
        name: round(model.weights.get(name, 0.0) * stored.score.features.get(name, 0.0), 4)
        for name in FEATURES
    }
    report = {
        "score_id": stored.score_id,
        "case_id": stored.case_id,
        "trigger": stored.trigger,
        "as_of": stored.as_of.isoformat(),
        "model": model.to_dict(),
        "inputs": stored.inputs.to_dict(),
        "features": dict(stored.score.features),
        "log_odds_contributions": contributions,
        "stored": {
            **{k: v for k, v in asdict(stored.score).items() if k not in {"features", "reasons"}},
            "recovery_probability": str(stored.score.recovery_probability),
            "reasons": [r.code for r in stored.score.reasons],
        },
        "recomputed_matches": found.matches,
    }
    out.write(json.dumps(report, indent=2, default=str) + "\n")


async def explain(reproduce: Reproduce, score_id: str, out: TextIO) -> bool:
    """Print one score's explanation; True when recomputing it gives the stored result."""
    found = await reproduce(score_id)
    if found is None:
        out.write(f"score_id: no stored score {score_id} with reproducible inputs\n")
        return False
    write_report(found, out)
    return found.matches


def main(argv: Sequence[str] | None, *, reproduce: Reproduce) -> None:
    """Command line of the explanation: exit 1 unless the score recomputes."""
    parser = argparse.ArgumentParser(prog="python -m scoring explain", description=__doc__)
    parser.add_argument("score_id", help="the score_id of a stored score")
    args = parser.parse_args(argv)
    matches = asyncio.run(explain(reproduce, args.score_id, sys.stdout))
    sys.exit(0 if matches else 1)
