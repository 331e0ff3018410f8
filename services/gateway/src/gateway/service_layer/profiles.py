"""A creditor's own profile: its name and its SIREN, which a company creditor must give before
its first case or import (so that the e-invoice seller check never runs without it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from gateway.domain.errors import InvalidField, NotAllowed, NotFound
from gateway.domain.model import Organisation, OrganisationKind, organisation_name, valid_siren
from gateway.service_layer.providers import CompanyRegistry, registered_siren
from gateway.service_layer.unit_of_work import GatewayUnitOfWork
from recouvra_shared.errors import StateConflict, Violation

PROFILE_ROUTE = "PUT /v1/account/profile"


class SirenMissing(StateConflict):
    """A company creditor without a SIREN on file may not submit or import cases yet."""

    reason = "SIREN_REQUIRED"

    def __init__(self) -> None:
        rule = (
            "a company creditor must give its SIREN before its first case or import: "
            f"add it with {PROFILE_ROUTE}"
        )
        super().__init__(rule, [Violation("siren", rule)])


class SirensOnFile:
    """Creditors this process has seen with a SIREN on file. A SIREN can be corrected, never
    removed, so once seen the check needs no database for that creditor again; a creditor not
    yet seen is read. Bounded: past `limit` creditors it starts over (each is read again)."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self._known: set[str] = set()

    async def require(self, creditor_id: str, uow: Callable[[], GatewayUnitOfWork]) -> None:
        """Refuse (as `require_siren`) a creditor without a SIREN on file."""
        if creditor_id in self._known:
            return
        async with uow() as opened:
            await require_siren(creditor_id, opened)
        if len(self._known) >= self.limit:
            self._known.clear()
        self._known.add(creditor_id)


async def require_siren(creditor_id: str, uow: GatewayUnitOfWork) -> Organisation:
    """The creditor, refused with SirenMissing while it has no SIREN on file."""
    creditor = await uow.accounts.get_organisation(creditor_id)
    if creditor is None or creditor.kind is not OrganisationKind.CREDITOR:
        raise NotFound("creditor: no such creditor")
    if not creditor.siren:
        raise SirenMissing()
    return creditor


async def update_profile(
    creditor_id: str,
    name: str | None,
    siren: str,
    uow: GatewayUnitOfWork,
    registry: CompanyRegistry,
) -> Organisation:
    """Add or correct a creditor's SIREN (valid, and not ceased in the company registry) and,
    when given, its name. A provider's SIREN is vetted by operators and cannot change here."""
    creditor = await uow.accounts.get_organisation(creditor_id)
    if creditor is None:
        raise NotFound("creditor: no such creditor")
    if creditor.kind is not OrganisationKind.CREDITOR:
        raise NotAllowed("only creditors change their profile here")
    checked = valid_siren(siren)
    if checked is None:  # it can be corrected, never removed
        raise InvalidField("siren", "is required: 9 digits with a correct checksum")
    await registered_siren(checked, registry)
    new_name = creditor.name if name is None else organisation_name(name)
    await uow.accounts.set_profile(creditor.organisation_id, new_name, checked)
    return replace(creditor, name=new_name, siren=checked)
