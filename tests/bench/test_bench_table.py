"""The bench table: rows from every bench become one table, kept as JSON and compared."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import bench_table
from tests.support.bench_table import Row, Run, Target, compare, history, load, render, save


def vault_row(figure: float, baseline: float) -> Row:
    return Row(
        "vault download 16 MB",
        figure,
        "MB/s",
        baseline=baseline,
        baseline_label="raw S3 get",
        target=Target("ratio", ">=", 0.9),
    )


def test_a_row_says_its_ratio_to_the_raw_baseline_and_whether_it_meets_its_target() -> None:
    assert vault_row(75.5, 755.0).ratio == pytest.approx(0.1)
    assert vault_row(75.5, 755.0).met is False
    assert vault_row(700.0, 755.0).met is True
    memory = Row("1 GB upload memory", 40.0, "MiB", target=Target("figure", "<=", 64))
    assert memory.met is True
    assert Row("no target", 1.0, "x").met is None


def test_the_table_shows_every_column_of_every_row() -> None:
    text = render([vault_row(75.5, 755.0), Row("scoring p99", 140.0, "ms", note="at 8 callers")])
    header, _, vault, scoring, *notes = text.splitlines()
    assert header.split() == ["path", "figure", "unit", "baseline", "ratio", "target", "met"]
    expected = "75.5 MB/s 755 (raw S3 get) 0.10 ratio ≥ 0.9 NO"
    assert vault.removeprefix("vault download 16 MB").split() == expected.split()
    assert scoring.split()[-4:] == ["-", "-", "-", "-"]
    assert "0.0049" in render([Row("Score over gRPC", 41.8, "req/s", baseline=8491.0)])
    assert notes == ["notes:", "  scoring p99: at 8 callers"]


def test_rows_reported_by_separate_bench_processes_end_in_one_saved_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows_file = tmp_path / "rows.jsonl"
    monkeypatch.setenv(bench_table.ROWS_FILE_ENV, str(rows_file))
    bench_table.report([vault_row(75.5, 755.0)])
    bench_table.report([Row("outbox -> relay -> inbox", 2505.0, "msg/s", baseline=19067.0)])
    monkeypatch.setattr(bench_table, "RUNS", tmp_path / "runs")

    assert bench_table.main(["table", str(rows_file)]) == 0

    saved = json.loads((tmp_path / "runs" / "latest.json").read_text())
    assert [r["path"] for r in saved["rows"]] == [
        "vault download 16 MB",
        "outbox -> relay -> inbox",
    ]
    assert saved["rows"][0]["met"] is False
    assert saved["rows"][1]["ratio"] == pytest.approx(2505 / 19067)
    assert len(history(tmp_path / "runs")) == 1
    assert "outbox -> relay -> inbox" in capsys.readouterr().out


def test_a_failed_bench_is_named_and_fails_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text(json.dumps(vault_row(75.5, 755.0).as_json()) + "\n")
    monkeypatch.setattr(bench_table, "RUNS", tmp_path)
    failed = "services/vault/bench/bench_vault.py"

    assert bench_table.main(["table", str(rows_file), "--failed", failed]) == 1

    assert f"FAILED (no rows): {failed}" in capsys.readouterr().out
    assert json.loads((tmp_path / "latest.json").read_text())["failed"] == [failed]


def test_compare_needs_two_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_table, "RUNS", tmp_path)
    save(Run([vault_row(75.5, 755.0)]), tmp_path)
    assert bench_table.main(["compare"]) == 1


def test_compare_shows_each_rows_change_and_which_way_is_better(tmp_path: Path) -> None:
    memory = Target("figure", "<=", 64)
    before = Run(
        [
            vault_row(75.5, 755.0),
            Row("memory", 200.0, "MiB", target=memory, higher_is_better=False),
        ],
        finished_at="2026-12-03T10:00:00+00:00",
    )
    after = Run(
        [
            vault_row(700.0, 750.0),
            Row("memory", 40.0, "MiB", target=memory, higher_is_better=False),
        ],
        finished_at="2026-12-03T11:00:00+00:00",
    )
    save(before, tmp_path)
    save(after, tmp_path)
    older, newer = history(tmp_path)
    text = compare(load(older), load(newer))
    assert text.splitlines()[0].startswith("2026-12-03T10:00:00+00:00 (, load ")
    vault = next(line for line in text.splitlines() if line.startswith("vault"))
    expected = "MB/s 75.5 700 +827% better 0.10 0.93 NO -> yes"
    assert vault.removeprefix("vault download 16 MB").split() == expected.split()
    memory_line = next(line for line in text.splitlines() if line.startswith("memory"))
    assert "-80% better" in memory_line
