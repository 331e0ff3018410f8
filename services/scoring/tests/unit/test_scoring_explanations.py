"""Explaining a stored score and reading ended cases for training, on fakes."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date

from scoring.domain.scores import StoredScore
from scoring.entrypoints.explain_command import explain
from scoring.service_layer.explanations import Reproduction, reproduce_score
from scoring.service_layer.training import platform_ended_cases
from services.scoring.tests.unit.builders import (
    declared,
    deliver,
    exhaustion,
    new_id,
    run,
    scorer,
    scores_of,
    submission,
)
from services.scoring.tests.unit.fakes import FakeModels, FakeScoringUnitOfWork, FakeStorage


async def reproduce(storage: FakeStorage, score_id: str) -> Reproduction | None:
    async def reproducing(uow: FakeScoringUnitOfWork) -> Reproduction | None:
        return await reproduce_score(score_id, uow, FakeModels())

    found: Reproduction | None = await run(storage, reproducing)
    return found


async def scored_case() -> tuple[FakeStorage, StoredScore]:
    storage, case_id = FakeStorage(), new_id()
    await deliver(storage, scorer(), submission(case_id))
    [stored] = scores_of(storage, case_id)
    return storage, stored


async def test_a_stored_score_recomputes_from_its_inputs_and_model() -> None:
    storage, stored = await scored_case()
    found = await reproduce(storage, stored.score_id)
    assert found is not None
    assert found.matches
    assert found.model.version == "scorecard-v1"
    out = io.StringIO()
    assert await explain(lambda _: reproduce(storage, stored.score_id), stored.score_id, out)
    report = json.loads(out.getvalue())
    assert report["recomputed_matches"] is True
    assert report["inputs"]["case"]["amount_minor"] == 240_000
    assert report["stored"]["reasons"] == list(stored.score.reason_codes)
    assert set(report["log_odds_contributions"]) >= {"age", "amount"}


async def test_inputs_that_no_longer_give_the_stored_score_are_reported() -> None:
    storage, stored = await scored_case()
    assert stored.inputs is not None
    tampered = replace(stored.inputs, case=replace(stored.inputs.case, disputed=True))
    storage.scores = [(replace(stored, inputs=tampered), storage.scores[0][1])]
    out = io.StringIO()
    assert not await explain(lambda _: reproduce(storage, stored.score_id), stored.score_id, out)
    assert json.loads(out.getvalue())["recomputed_matches"] is False


async def test_a_score_without_inputs_or_unknown_cannot_be_explained() -> None:
    storage, stored = await scored_case()
    storage.scores = [(replace(stored, inputs=None), storage.scores[0][1])]
    assert await reproduce(storage, stored.score_id) is None
    out = io.StringIO()
    assert not await explain(lambda _: reproduce(storage, "nope"), "nope", out)
    assert out.getvalue() == "score_id: no stored score nope with reproducible inputs\n"


async def test_training_reads_each_ended_case_as_of_its_first_score() -> None:
    storage, scoring = FakeStorage(), scorer()
    recovered, unrecovered, still_open, old = new_id(), new_id(), new_id(), new_id()
    await deliver(
        storage,
        scoring,
        submission(recovered),
        declared(recovered, 100_000, date(2026, 11, 10)),  # a re-score that must not count
        declared(recovered, 140_000, date(2026, 11, 20)),
        submission(unrecovered),
        exhaustion(unrecovered, remaining=240_000),
        submission(still_open),
        submission(old),
        exhaustion(old, remaining=240_000),
    )
    [first_of_old] = scores_of(storage, old)
    storage.scores = [
        (replace(s, inputs=None) if s.score_id == first_of_old.score_id else s, event_id)
        for s, event_id in storage.scores
    ]
    out = io.StringIO()

    async def reading(uow: FakeScoringUnitOfWork) -> list[object]:
        return list(await platform_ended_cases(uow, out))

    ended = await run(storage, reading)
    assert {(c.case_id, c.status) for c in ended} == {
        (recovered, "recovered"),
        (unrecovered, "unrecovered"),
    }
    assert all(c.inputs.case.paid_minor == 0 for c in ended)
    assert (
        out.getvalue() == "left out 1 ended cases whose first score kept no inputs (scorecard-v0)\n"
    )
