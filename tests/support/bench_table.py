"""One table for every bench: rows reported by each bench script, printed and kept as JSON.

A bench script calls `report([...rows])`: the rows are printed at once and, when `make bench`
set `RECOUVRA_BENCH_ROWS` to a file, appended to it (one JSON object a line). At the end
`make bench` runs `python -m tests.support.bench_table table FILE`, which prints every row as one
table and writes it to `var/bench/<UTC time>.json` and `var/bench/latest.json`;
`python -m tests.support.bench_table compare` (`make bench-compare`) shows each row's change
between the two most recent runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[2]
RUNS = ROOT / "var" / "bench"
ROWS_FILE_ENV = "RECOUVRA_BENCH_ROWS"


@dataclass(frozen=True)
class Target:
    """What a row must reach: its ratio to the baseline, or its figure, against a bound."""

    of: Literal["ratio", "figure"]
    op: Literal[">=", "<="]
    value: float

    def met_by(self, figure: float, ratio: float | None) -> bool | None:
        measured = ratio if self.of == "ratio" else figure
        if measured is None:
            return None
        return measured >= self.value if self.op == ">=" else measured <= self.value

    def text(self, unit: str) -> str:
        sign = "≥" if self.op == ">=" else "≤"
        if self.of == "ratio":
            return f"ratio {sign} {self.value:g}"
        return f"{sign} {self.value:g} {unit}"


@dataclass(frozen=True)
class Row:
    """One measured path: its figure, the raw baseline measured in the same run, its target."""

    path: str
    figure: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: Target | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """Figure over baseline (1 = as fast as the raw baseline)."""
        if not self.baseline:
            return None
        return self.figure / self.baseline

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met_by(self.figure, self.ratio)

    def as_json(self) -> dict[str, object]:
        return asdict(self) | {"ratio": self.ratio, "met": self.met}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Row:
        fields = {k: v for k, v in data.items() if k not in {"ratio", "met"}}
        target = fields.pop("target", None)
        return cls(**fields, target=Target(**target) if target else None)  # type: ignore[arg-type]


@dataclass
class Run:
    """Every row of one `make bench`, with when and on what it ran."""

    rows: list[Row]
    finished_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat("T", "seconds"))
    commit: str = ""
    cores: int = field(default_factory=lambda: os.cpu_count() or 0)
    failed: list[str] = field(default_factory=list)
    # The machine may be shared: a figure means little without how busy it was.
    load_average: float = field(default_factory=lambda: os.getloadavg()[1])


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if value >= 0.1 else f"{value:.2g}"


def _met(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "NO")


def render(rows: list[Row]) -> str:
    """The rows as one aligned text table."""
    header = ["path", "figure", "unit", "baseline", "ratio", "target", "met"]
    lines = [
        [
            row.path,
            _number(row.figure),
            row.unit,
            _number(row.baseline) + (f" ({row.baseline_label})" if row.baseline_label else ""),
            _ratio(row.ratio),
            row.target.text(row.unit) if row.target else "-",
            _met(row.met),
        ]
        for row in rows
    ]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        for cells in [header, ["-" * w for w in widths], *lines]
    ]
    notes = [f"  {row.path}: {row.note}" for row in rows if row.note]
    return "\n".join(out + (["notes:", *notes] if notes else []))


def report(rows: list[Row]) -> None:
    """Print a bench's rows, and hand them to `make bench`'s table when it is collecting."""
    print(render(rows), flush=True)
    target = os.environ.get(ROWS_FILE_ENV)
    if target:
        with Path(target).open("a") as out:
            for row in rows:
                out.write(json.dumps(row.as_json()) + "\n")


def _commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return ""


def save(run: Run, runs: Path | None = None) -> Path:
    """Write the run as `<UTC time>.json` and as `latest.json`; returns the timestamped file."""
    runs = runs or RUNS
    runs.mkdir(parents=True, exist_ok=True)
    body = json.dumps(
        {
            "finished_at": run.finished_at,
            "commit": run.commit,
            "cores": run.cores,
            "failed": run.failed,
            "load_average": run.load_average,
            "rows": [row.as_json() for row in run.rows],
        },
        indent=2,
    )
    stamped = runs / (run.finished_at.replace(":", "").replace("+0000", "Z") + ".json")
    stamped.write_text(body)
    (runs / "latest.json").write_text(body)
    return stamped


def load(path: Path) -> Run:
    data = json.loads(path.read_text())
    rows = [Row.from_json(r) for r in data["rows"]]
    return Run(
        rows,
        data["finished_at"],
        data.get("commit", ""),
        data.get("cores", 0),
        load_average=data.get("load_average", 0.0),
    )


def history(runs: Path | None = None) -> list[Path]:
    """The timestamped runs, oldest first."""
    runs = runs or RUNS
    return sorted(p for p in runs.glob("*.json") if p.name != "latest.json")


def _change(before: float | None, now: float | None, higher_is_better: bool) -> str:
    if before is None or now is None or before == 0:
        return "-"
    change = (now - before) / abs(before)
    better = (change > 0) == higher_is_better
    verdict = "" if abs(change) < 0.05 else (" better" if better else " worse")
    return f"{change:+.0%}{verdict}"


def compare(previous: Run, current: Run) -> str:
    """Each row of `current` beside the same row of `previous`."""
    before = {row.path: row for row in previous.rows}
    header = ["path", "unit", "before", "now", "change", "ratio before", "ratio now", "met"]
    lines = []
    for row in current.rows:
        old = before.get(row.path)
        lines.append(
            [
                row.path,
                row.unit,
                _number(old.figure if old else None),
                _number(row.figure),
                _change(old.figure if old else None, row.figure, row.higher_is_better),
                _ratio(old.ratio if old else None),
                _ratio(row.ratio),
                f"{_met(old.met if old else None)} -> {_met(row.met)}",
            ]
        )
    gone = [path for path in before if path not in {row.path for row in current.rows}]
    widths = [max(len(str(c)) for c in column) for column in zip(header, *lines, strict=True)]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()
        for cells in [header, ["-" * w for w in widths], *lines]
    ]
    title = (
        f"{previous.finished_at} ({previous.commit}, load {previous.load_average:.1f}) -> "
        f"{current.finished_at} ({current.commit}, load {current.load_average:.1f}) "
        f"on {current.cores} cores"
    )
    return "\n".join([title, *out, *(f"not measured now: {p}" for p in gone)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    table = commands.add_parser("table", help="print and save the rows collected by make bench")
    table.add_argument("rows_file", type=Path)
    table.add_argument("--failed", nargs="*", default=[], help="bench scripts that failed")
    commands.add_parser("compare", help="the latest run against the one before it")
    args = parser.parse_args(argv)
    if args.command == "table":
        text = args.rows_file.read_text() if args.rows_file.exists() else ""
        rows = [Row.from_json(json.loads(line)) for line in text.splitlines() if line.strip()]
        run = Run(rows, commit=_commit(), failed=list(args.failed))
        print(render(rows))
        print(f"load average (5 min) {run.load_average:.1f} on {run.cores} cores")
        for failed in run.failed:
            print(f"FAILED (no rows): {failed}")
        stamped = save(run)
        print(f"saved {stamped} and {stamped.with_name('latest.json')}")
        return 1 if run.failed else 0
    runs = history()
    if len(runs) < 2:
        print("make bench-compare needs two runs of make bench in var/bench/", file=sys.stderr)
        return 1
    print(compare(load(runs[-2]), load(runs[-1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
