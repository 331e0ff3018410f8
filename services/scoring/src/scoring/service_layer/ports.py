"""What scoring's use cases need besides its database: company facts, debtors' SIRENs and model
versions."""

from __future__ import annotations

from typing import Any, Protocol

from scoring.domain.facts import CompanyFacts
from scoring.domain.features import LinearModel


class CompanyRegistry(Protocol):
    """Where company facts come from."""

    async def lookup(self, siren: str) -> CompanyFacts | None:
        """The company with this SIREN (or SIRET), or None when unknown or unreachable."""


class SirenSourceUnreachable(ConnectionError):
    """The debtors' SIRENs could not be read now (intake down or slow): an outage, which the
    inbox consumer waits out, retrying the event without committing its offset."""


class DebtorSirens(Protocol):
    """Where a case's debtor SIREN comes from: intake, which keeps it off the bus (issue 12)."""

    async def siren_of(self, case_id: str) -> str | None:
        """The case's debtor SIREN (or SIRET) as intake holds it, or None when the debtor has
        none or intake does not know the case; SirenSourceUnreachable when it cannot answer."""


class ModelVersions(Protocol):
    """Every model version ever made, one of them active; none is ever deleted."""

    @property
    def keeps_versions(self) -> bool:
        """Whether new versions can be kept (training without a place to keep them only reports)."""

    def get(self, version: str) -> LinearModel:
        """The model of that version; UnknownModel when it was never stored."""

    def active(self) -> LinearModel:
        """The model new scores use."""

    def save(self, model: LinearModel, metrics: dict[str, Any]) -> None:
        """Keep a model version (never overwrites one already stored)."""

    def promote(self, version: str) -> None:
        """Make a stored version active, remembering the one it replaces."""
