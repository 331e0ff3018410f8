"""Build kubeconform's strict JSON schemas offline.

    python3 k8s/kubernetes_schemas.py core OUT_DIR
    python3 k8s/kubernetes_schemas.py crd OUT_DIR CRD.yaml...   (needs PyYAML)

kubeconform normally downloads its schemas from GitHub, which CI machines here cannot reach.

`core`: the built-in kinds. Their schemas ship in the k8s.io/kubernetes Go module
(api/openapi-spec/swagger.json), which the Go module proxy serves. This fetches that module's
zip (from the Go module cache when present, else from GOPROXY), checks its pinned SHA-256, and
writes one schema per kind, named as kubeconform expects (`deployment-apps-v1.json`): every $ref
inlined, unknown fields refused. Standard library only; validate.sh runs it once per cache.

`crd`: the custom resources (Strimzi, CloudNativePG), from the operators' CRD files. Their
output is checked in under k8s/schemas/ (see its README.md), because neither operator's
repository is reachable through the Go module proxy.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import json
import os
import sys
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

KUBERNETES_VERSION = "v1.32.4"
MODULE_ZIP_SHA256 = "fa82a5262696f45d0b9e32529f81c5a8b8c85874b619ddef5491dfe51e5bd470"
SWAGGER_PATH = f"k8s.io/kubernetes@{KUBERNETES_VERSION}/api/openapi-spec/swagger.json"
ZIP_PATH = f"k8s.io/kubernetes/@v/{KUBERNETES_VERSION}.zip"

INT_OR_STRING = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
# Quantities are written both as strings ("512Mi") and as plain numbers (cpu: 1).
QUANTITY = {"oneOf": [{"type": "string"}, {"type": "number"}]}
QUANTITY_DEFINITION = "io.k8s.apimachinery.pkg.api.resource.Quantity"
DROPPED_KEYS = {"description", "x-kubernetes-group-version-kind"}


def _module_zip() -> bytes:
    """The k8s.io/kubernetes module zip: the local Go module cache first, then the proxies."""
    modcache = os.environ.get("GOMODCACHE")
    if modcache:
        cached = Path(modcache) / "cache" / "download" / ZIP_PATH
        if cached.is_file():
            return cached.read_bytes()
    errors = []
    for proxy in os.environ.get("GOPROXY", "https://proxy.golang.org").replace("|", ",").split(","):
        if not proxy.startswith(("https://", "http://")):
            continue  # "direct" and "off" are not proxies
        url = f"{proxy.rstrip('/')}/{ZIP_PATH}"
        try:
            with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (http(s) only)
                return bytes(response.read())
        except OSError as exc:
            errors.append(f"{url}: {exc}")
    raise SystemExit("cannot fetch the k8s.io/kubernetes module:\n  " + "\n  ".join(errors))


def _swagger() -> dict[str, Any]:
    data = _module_zip()
    digest = hashlib.sha256(data).hexdigest()
    if digest != MODULE_ZIP_SHA256:
        raise SystemExit(f"k8s.io/kubernetes {KUBERNETES_VERSION}: sha256 {digest} is not pinned")
    with zipfile.ZipFile(io.BytesIO(data)) as module:
        swagger: dict[str, Any] = json.loads(module.read(SWAGGER_PATH))
    return swagger


class _Inliner:
    """Turns swagger definitions into standalone, strict JSON schemas."""

    def __init__(self, definitions: dict[str, Any]) -> None:
        self.definitions = definitions

    def schema(self, node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, list):
            return [self.schema(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/definitions/")
            if name == QUANTITY_DEFINITION:
                return QUANTITY
            if name in seen:  # recursive types (JSONSchemaProps): accept anything below
                return {}
            return self.schema(self.definitions[name], seen | {name})
        if node.get("format") == "int-or-string":
            return INT_OR_STRING
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED_KEYS:
                continue
            if key == "properties":
                out[key] = {prop: self.schema(sub, seen) for prop, sub in value.items()}
            else:
                out[key] = self.schema(value, seen)
        if "properties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out


def _crd_strict(node: Any) -> Any:
    """A CRD's openAPIV3Schema with unknown fields refused, where the CRD does not allow them."""
    if isinstance(node, list):
        return [_crd_strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description":
            continue
        if key == "properties":
            out[key] = {prop: _crd_strict(sub) for prop, sub in value.items()}
        else:
            out[key] = _crd_strict(value)
    if out.pop("x-kubernetes-int-or-string", False):
        out.pop("type", None)
        out.update(INT_OR_STRING)
    open_ended = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not open_ended:
        out["additionalProperties"] = False
    return out


def _file_name(group: str, version: str, kind: str) -> str:
    suffix = f"-{group.split('.')[0]}-{version}" if group else f"-{version}"
    return f"{kind.lower()}{suffix}.json"


def crd_schemas(out_dir: Path, crd_files: list[str]) -> int:
    """One schema per served version of each CRD."""
    yaml = importlib.import_module("yaml")  # PyYAML: only this maintainer command needs it
    out_dir.mkdir(parents=True, exist_ok=True)
    for crd_file in crd_files:
        crd = yaml.safe_load(Path(crd_file).read_text())
        spec = crd["spec"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            name = _file_name(spec["group"], version["name"], spec["names"]["kind"])
            schema = _crd_strict(version["schema"]["openAPIV3Schema"])
            (out_dir / name).write_text(json.dumps(schema, separators=(",", ":")) + "\n")
            sys.stdout.write(f"{crd_file} -> {out_dir / name}\n")
    return 0


def core_schemas(out_dir: Path) -> int:
    """Write the built-in kinds' schemas; a `.complete` marker says the set is whole."""
    out_dir.mkdir(parents=True, exist_ok=True)
    definitions = _swagger()["definitions"]
    inliner = _Inliner(definitions)
    written = 0
    for name, definition in definitions.items():
        kinds = definition.get("x-kubernetes-group-version-kind") or []
        if len(kinds) != 1:  # list and option types shared by many groups are not resources
            continue
        gvk = kinds[0]
        schema = inliner.schema(definition, frozenset({name}))
        path = out_dir / _file_name(gvk["group"], gvk["version"], gvk["kind"])
        path.write_text(json.dumps(schema, separators=(",", ":")))
        written += 1
    (out_dir / ".complete").write_text(f"{KUBERNETES_VERSION} {written}\n")
    sys.stdout.write(f"wrote {written} schemas of Kubernetes {KUBERNETES_VERSION} to {out_dir}\n")
    return 0


def main(argv: list[str]) -> int:
    """`core OUT_DIR` or `crd OUT_DIR CRD.yaml...`."""
    if len(argv) >= 4 and argv[1] == "crd":
        return crd_schemas(Path(argv[2]), argv[3:])
    if len(argv) != 3 or argv[1] != "core":
        sys.stderr.write(__doc__ or "")
        return 2
    return core_schemas(Path(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
