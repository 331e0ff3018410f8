"""Model versions on disk: every version kept as JSON, one of them marked active.

Layout of the directory: ``<version>.json`` per model (weights, metrics, when and why it was made)
and ``active.json`` naming the version in use and the one before it. Nothing is ever deleted, so
any past score can be recomputed with the model version it names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scoring.domain.errors import UnknownModel
from scoring.domain.features import LinearModel
from scoring.domain.scorecard import SCORECARD


class FileModelStore:
    """Model versions as JSON files in one directory; the built-in scorecard is always known."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._models: dict[str, LinearModel] = {}
        self._pointer_cache: tuple[float, dict[str, Any]] | None = None

    @property
    def keeps_versions(self) -> bool:
        """Whether new versions can be kept: only with a directory to keep them in."""
        return self.directory is not None

    def _path(self, version: str) -> Path:
        assert self.directory is not None
        if not version.replace("-", "").replace(".", "").isalnum():
            raise UnknownModel(f"model version {version!r} is not a valid name")
        return self.directory / f"{version}.json"

    def get(self, version: str) -> LinearModel:
        """The model of that version; UnknownModel when it was never stored."""
        if version == SCORECARD.version:
            return SCORECARD
        if version in self._models:
            return self._models[version]
        if self.directory is None or not self._path(version).exists():
            raise UnknownModel(f"model version {version!r} is not stored")
        # A stored version never changes, so it is read once.
        model = LinearModel.from_dict(json.loads(self._path(version).read_text())["model"])
        self._models[version] = model
        return model

    def active(self) -> LinearModel:
        """The model new scores use: the promoted one, or the built-in scorecard."""
        pointer = self._pointer()
        return self.get(pointer["active"]) if pointer else SCORECARD

    def save(self, model: LinearModel, metrics: dict[str, Any]) -> None:
        """Keep a model version (never overwrites one already stored)."""
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(model.version)
        if path.exists():
            raise FileExistsError(f"model version {model.version} is already stored")
        path.write_text(json.dumps({"model": model.to_dict(), "metrics": metrics}, indent=2))

    def promote(self, version: str) -> None:
        """Make a stored version active, remembering the one it replaces."""
        assert self.directory is not None
        wrong = self.get(version).wrong_directions()
        if wrong:
            raise ValueError(f"{version}: weights against the domain's direction: {wrong}")
        current = self.active().version
        pointer = {"active": version, "previous": current}
        tmp = self.directory / "active.json.tmp"
        tmp.write_text(json.dumps(pointer))
        tmp.replace(self.directory / "active.json")

    def _pointer(self) -> dict[str, Any] | None:
        if self.directory is None:
            return None
        path = self.directory / "active.json"
        try:
            changed = path.stat().st_mtime
        except FileNotFoundError:
            return None
        # A promotion by the training command is picked up without a restart.
        if self._pointer_cache is None or self._pointer_cache[0] != changed:
            self._pointer_cache = (changed, json.loads(path.read_text()))
        return self._pointer_cache[1]
