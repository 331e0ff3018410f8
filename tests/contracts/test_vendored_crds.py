"""The operators' CRDs that `make k8s-check` installs in a real API server (k8s/crds) are the ones
kubeconform's offline schemas (k8s/schemas/crds, `make lint`) were generated from: both checks
judge the manifests by the same operator versions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CRDS = ROOT / "k8s" / "crds"
SCHEMAS = ROOT / "k8s" / "schemas" / "crds"


def test_the_offline_schemas_are_generated_from_the_vendored_crds(tmp_path: Path) -> None:
    crd_files = sorted(str(p) for p in CRDS.glob("*/*.yaml"))
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "k8s" / "kubernetes_schemas.py"),
            "crd",
            str(tmp_path),
            *crd_files,
        ],
        check=True,
        capture_output=True,
    )
    generated = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    committed = {p.name: p.read_text() for p in SCHEMAS.glob("*.json")}
    assert generated == committed


def test_every_custom_kind_the_manifests_use_has_its_crd_vendored() -> None:
    vendored = {
        (doc["spec"]["group"], doc["spec"]["names"]["kind"])
        for path in CRDS.glob("*/*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    }
    used = set()
    for path in (ROOT / "k8s").glob("**/*.yaml"):
        if CRDS in path.parents or "kustomization" in path.name:
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict) and "/" in str(doc.get("apiVersion", "")):
                group = doc["apiVersion"].split("/")[0]
                if "." in group and not group.endswith(".k8s.io"):
                    used.add((group, doc["kind"]))
    assert used
    assert used <= vendored, used - vendored
