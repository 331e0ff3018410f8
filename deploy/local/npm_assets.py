"""Vendored npm files (deploy/npm-assets.json): fetched from registry.npmjs.org, checked, kept.

    python deploy/local/npm_assets.py fetch   download each pinned tarball, check it and the file
    python deploy/local/npm_assets.py check   check the vendored files against their pins (offline)
    python deploy/local/npm_assets.py pin     (maintainers) record the hashes of what fetch got

Nothing is loaded from a CDN at run time: the gateway serves these files itself, and the pages
name each script with its SRI hash (`integrity`), so a changed file is refused by the browser too.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "deploy" / "npm-assets.json"
REGISTRY = "https://registry.npmjs.org"


def sri(content: bytes, algorithm: str = "sha384") -> str:
    """A Subresource Integrity value: `<algorithm>-<base64 digest>`."""
    digest = hashlib.new(algorithm, content).digest()
    return f"{algorithm}-{base64.b64encode(digest).decode()}"


def load() -> dict[str, Any]:
    """The manifest."""
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return manifest


def _tarball(asset: dict[str, Any]) -> bytes:
    name, version = asset["package"], asset["version"]
    url = f"{REGISTRY}/{name}/-/{name.split('/')[-1]}-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as reply:  # noqa: S310 (fixed https registry)
        return bytes(reply.read())


def _member(tarball: bytes, path: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        member = archive.extractfile(path)
        if member is None:
            raise SystemExit(f"{path}: not a file in the tarball")
        return member.read()


def fetch(pin: bool = False) -> int:
    """Download, check and write every asset; with `pin`, record the hashes instead of checking."""
    manifest = load()
    for asset in manifest["assets"]:
        tarball = _tarball(asset)
        content = _member(tarball, asset["file"])
        got_tarball, got_file = sri(tarball, "sha512"), sri(content)
        if pin:
            asset["tarball_integrity"], asset["integrity"] = got_tarball, got_file
        elif (got_tarball, got_file) != (asset["tarball_integrity"], asset["integrity"]):
            print(f"{asset['package']}@{asset['version']}: hash mismatch", file=sys.stderr)
            return 1
        destination = ROOT / asset["dest"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(content)
        print(f"{asset['package']}@{asset['version']} -> {asset['dest']} ({got_file})")
    if pin:
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


def check() -> list[str]:
    """Every vendored file whose content does not match its pinned hash."""
    return [
        asset["dest"]
        for asset in load()["assets"]
        if not (ROOT / asset["dest"]).is_file()
        or sri((ROOT / asset["dest"]).read_bytes()) != asset["integrity"]
    ]


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else ""
    if command in {"fetch", "pin"}:
        return fetch(pin=command == "pin")
    if command == "check":
        wrong = check()
        for path in wrong:
            print(f"{path}: does not match its pinned hash", file=sys.stderr)
        return 1 if wrong else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
