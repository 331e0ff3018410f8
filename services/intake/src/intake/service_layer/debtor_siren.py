"""A case's debtor SIREN, for the one service that needs it and nobody else (issue 12).

The SIREN left intake.case-submitted.v1: a sole trader's names a person, and Kafka keeps every
record for the topic's retention, out of reach of erasure. Scoring matches the SIREN with the
public company registers (insolvency stops the chase), so it asks here, case by case."""

from __future__ import annotations

from dataclasses import dataclass

from intake.domain.commands import GetDebtorSiren
from intake.domain.errors import CaseNotFound, SirenReaderOnly
from intake.domain.model import is_case_id
from intake.service_layer.unit_of_work import IntakeUnitOfWork

# The services (by the name their signed token carries) that may read a debtor's SIREN.
SIREN_READERS: frozenset[str] = frozenset({"scoring"})


@dataclass(frozen=True)
class DebtorSiren:
    """What scoring needs of the debtor: whether B2B rules apply, and its SIREN ('' if none)."""

    case_id: str
    is_business: bool
    siren: str


async def read_debtor_siren(query: GetDebtorSiren, uow: IntakeUnitOfWork) -> DebtorSiren:
    """The SIREN of the case's debtor for a reader on SIREN_READERS; SirenReaderOnly for anyone
    else (before the case is even looked up), CaseNotFound for an unknown case."""
    if query.service not in SIREN_READERS:
        raise SirenReaderOnly(", ".join(sorted(SIREN_READERS)))
    debtor = await uow.cases.debtor_of(query.case_id) if is_case_id(query.case_id) else None
    if debtor is None:
        raise CaseNotFound(query.case_id)
    return DebtorSiren(query.case_id, debtor.is_company, debtor.siren if debtor.is_company else "")
