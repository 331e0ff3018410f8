"""Company facts from the offline registry file; training, comparison and promotion."""

from __future__ import annotations

import io
import json
import random
from datetime import date
from pathlib import Path

import pytest

from scoring.adapters.model_store import FileModelStore
from scoring.adapters.registry import CsvCompanyRegistry
from scoring.domain.errors import UnknownModel
from scoring.domain.features import LinearModel
from scoring.domain.scorecard import SCORECARD, score
from scoring.domain.simulator import simulate_case, simulate_portfolio
from scoring.service_layer.training import CAVEAT, train_on_simulator


async def test_the_registry_file_flags_collective_proceedings_but_not_closed_ones() -> None:
    registry = CsvCompanyRegistry()
    receivership = await registry.lookup("860129048")
    closed = await registry.lookup("896 935 046")
    ceased = await registry.lookup("72510273500018")  # a SIRET: its first 9 digits
    assert receivership is not None
    assert receivership.in_insolvency_proceedings
    assert receivership.insolvency_published_on == date(2026, 9, 14)
    assert closed is not None
    assert not closed.in_insolvency_proceedings
    assert ceased is not None
    assert not ceased.active
    assert await registry.lookup("123456789") is None


async def test_every_company_in_the_registry_file_has_a_valid_siren() -> None:
    from stdnum.fr import siren

    registry = CsvCompanyRegistry()
    assert len(registry.companies) >= 10
    assert all(siren.is_valid(number) for number in registry.companies)


def test_the_simulator_is_reproducible_and_knows_each_true_probability() -> None:
    first = list(simulate_portfolio(50, seed=3))
    assert first == list(simulate_portfolio(50, seed=3))
    assert first != list(simulate_portfolio(50, seed=4))
    assert all(0 < c.true_probability < 1 for c in first)


def test_simulated_outcomes_follow_their_true_probabilities() -> None:
    book = list(simulate_portfolio(4000, seed=11))
    expected = sum(c.true_probability for c in book)
    observed = sum(c.recovered for c in book)
    assert abs(observed - expected) < 4 * (expected * (1 - expected / len(book))) ** 0.5


def test_scorecard_ranks_simulated_cases_better_than_chance() -> None:
    rng = random.Random(5)
    book = [simulate_case(rng) for _ in range(400)]
    recovered = [float(score(c.inputs, c.as_of).recovery_probability) for c in book if c.recovered]
    lost = [float(score(c.inputs, c.as_of).recovery_probability) for c in book if not c.recovered]
    assert sum(recovered) / len(recovered) > sum(lost) / len(lost) + 0.05


def test_training_promotes_a_better_refit_and_keeps_the_previous_version(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    out = io.StringIO()
    promoted = train_on_simulator(3000, seed=1, store=store, out=out, version="refit-a")
    report = out.getvalue()
    assert report.startswith(CAVEAT)
    for label in ("AUC", "Brier", "reliability", "active scorecard-v1", "candidate refit-a"):
        assert label in report
    assert promoted, report
    assert store.active().version == "refit-a"
    assert "PROMOTED: refit-a replaces scorecard-v1 (kept as the previous version)" in report
    # active.json names the version in use and the one before it, for an operator to go back.
    assert json.loads((tmp_path / "active.json").read_text()) == {
        "active": "refit-a",
        "previous": SCORECARD.version,
    }
    assert store.get(SCORECARD.version) == SCORECARD
    kept = json.loads((tmp_path / "refit-a.json").read_text())
    assert kept["metrics"]["simulated"] is True
    assert kept["metrics"]["compared_with"]["version"] == SCORECARD.version


def test_a_candidate_that_is_not_better_is_kept_but_not_promoted(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    train_on_simulator(3000, seed=1, store=store, out=io.StringIO(), version="refit-a")
    out = io.StringIO()
    promoted = train_on_simulator(300, seed=2, store=store, out=out, version="refit-b")
    assert not promoted
    assert "NOT PROMOTED" in out.getvalue()
    assert store.active().version == "refit-a"
    assert store.get("refit-b").version == "refit-b"


def test_a_model_against_the_domain_is_never_promoted(tmp_path: Path) -> None:
    store = FileModelStore(tmp_path)
    bent = LinearModel("bent", SCORECARD.intercept, dict(SCORECARD.weights) | {"age": 0.5})
    store.save(bent, {})
    with pytest.raises(ValueError, match="age"):
        store.promote("bent")
    with pytest.raises(UnknownModel):
        store.promote("never-stored")
    assert store.active() == SCORECARD


def test_the_train_command_prints_the_comparison_and_the_caveat(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "scoring", "train", "--cases", "2000", "--model-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "SIMULATED" in done.stdout
    assert "AUC" in done.stdout
    assert "Brier" in done.stdout
    assert "observed" in done.stdout
    assert (tmp_path / "active.json").exists() == ("PROMOTED:" in done.stdout)
    assert len(list(tmp_path.glob("refit-*.json"))) == 1
