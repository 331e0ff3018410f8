"""A creditor's profile: add or correct its SIREN (needed before its first case or import)."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.entrypoints.api.deps import CurrentCaller, Services
from gateway.entrypoints.api.problems import problem_responses
from gateway.schemas.accounts import OrganisationView
from gateway.schemas.operators import ProfileRequest
from gateway.service_layer import profiles

router = APIRouter(prefix="/v1/account", tags=["accounts"], responses=problem_responses(422))


@router.put(
    "/profile",
    summary="Creditors: add or correct your SIREN (and name)",
    response_model=OrganisationView,
    responses=problem_responses(401, 403, 404),
)
async def put_profile(
    body: ProfileRequest, caller: CurrentCaller, services: Services
) -> OrganisationView:
    """A company creditor gives its SIREN before its first case or import; it must be valid
    (9 digits, checksum) and not ceased in the company registry. Partners set it for a creditor
    they referred (X-On-Behalf-Of). Putting the same profile again changes nothing."""
    async with services.unit_of_work() as uow:
        creditor = await profiles.update_profile(
            caller.creditor_id, body.organisation_name, body.siren, uow, services.companies
        )
        await uow.commit()
    return OrganisationView.of(creditor)
