"""The layer rules of docs/architecture.md are enforced: a deliberate violation fails lint."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def copy_sources(target: Path) -> list[Path]:
    """Every package's source tree, copied so a test can break one without touching the repo."""
    roots = [ROOT / "shared" / "src", *sorted((ROOT / "services").glob("*/src"))]
    copies = []
    for index, source in enumerate(roots):
        copy = target / f"src{index}"
        shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        copies.append(copy)
    shutil.copy(ROOT / ".importlinter", target / ".importlinter")
    return copies


def lint(target: Path, copies: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(c) for c in copies)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=target,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def find_module(copies: list[Path], dotted: str) -> Path:
    relative = Path(*dotted.split(".")).with_suffix(".py")
    for copy in copies:
        if (copy / relative).exists():
            return copy / relative
    raise AssertionError(f"{dotted} not found")


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    target = tmp_path_factory.mktemp("layers")
    return target, copy_sources(target)


def test_the_code_as_it_is_keeps_every_contract(sources: tuple[Path, list[Path]]) -> None:
    result = lint(*sources)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


VIOLATIONS = [
    ("intake.domain.errors", "import sqlalchemy", "intake-domain-pure"),
    ("matching.domain.auction", "import recouvra.events.v1.envelope_pb2", "matching-domain-pure"),
    ("scoring.service_layer.unit_of_work", "import scoring.adapters.orm", "scoring-service-layer"),
    ("vault.domain.model", "import intake.domain.errors", "services-independent"),
    (
        "gateway.entrypoints.api.quotes",
        "import gateway.entrypoints.api.cases",
        "gateway-routes-siblings",
    ),
]


def test_each_deliberate_violation_breaks_its_contract(sources: tuple[Path, list[Path]]) -> None:
    target, copies = sources
    originals = {}
    for module, bad_import, _ in VIOLATIONS:
        path = find_module(copies, module)
        originals[path] = path.read_text()
        path.write_text(originals[path] + f"\n{bad_import}  # deliberate violation\n")
    try:
        result = lint(target, copies)  # one run for all: import-linter builds its graph once
    finally:
        for path, text in originals.items():
            path.write_text(text)
    assert result.returncode != 0
    config = (target / ".importlinter").read_text()
    output = " ".join(result.stdout.split())
    for _, _, contract in VIOLATIONS:
        name = config.split(f"[importlinter:contract:{contract}]\nname = ", 1)[1].split("\n")[0]
        assert f"{name} BROKEN" in output, (contract, result.stdout)
