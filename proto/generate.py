"""Regenerate the Python code for every contract in proto/ (the one command: `make proto`).

With --check, generate into a temporary folder and fail if the checked-in code differs.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
OUTPUT_ROOT = ROOT / "shared" / "src"
GENERATED_PACKAGE = "recouvra"


def generate(output: Path) -> None:
    """Run protoc on every .proto file, writing messages, gRPC stubs and type stubs."""
    include = Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={output}",
        f"--grpc_python_out={output}",
        f"--mypy_out={output}",
        f"--mypy_grpc_out={output}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for folder in [output / GENERATED_PACKAGE, *(output / GENERATED_PACKAGE).rglob("*")]:
        if folder.is_dir():
            (folder / "__init__.py").touch()


def generated_files(root: Path) -> set[Path]:
    """Every generated file below root/recouvra, relative to root."""
    return {p.relative_to(root) for p in (root / GENERATED_PACKAGE).rglob("*") if p.is_file()}


def check() -> int:
    """Return 0 when the checked-in generated code equals a fresh generation."""
    with tempfile.TemporaryDirectory() as tmp:
        fresh_root = Path(tmp)
        generate(fresh_root)
        fresh, current = generated_files(fresh_root), generated_files(OUTPUT_ROOT)
        current = {p for p in current if "__pycache__" not in p.parts}
        stale = sorted(str(p) for p in fresh ^ current)
        stale += sorted(
            str(p)
            for p in fresh & current
            if not filecmp.cmp(fresh_root / p, OUTPUT_ROOT / p, shallow=False)
        )
    if stale:
        print("generated code is stale, run `make proto`:", *stale, sep="\n  ")
        return 1
    print("generated code is up to date")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if generated code is stale")
    if parser.parse_args().check:
        return check()
    target = OUTPUT_ROOT / GENERATED_PACKAGE
    for old in target.rglob("*_pb2*.py*") if target.exists() else []:
        old.unlink()
    generate(OUTPUT_ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
