"""Which creditor's cases a requester may touch: a creditor only its own, a partner the creditor
it names, an internal service any, anyone else none. A foreign creditor looks like no creditor."""

from __future__ import annotations

from intake.domain.commands import INTERNAL, Requester
from intake.domain.errors import InvalidField
from recouvra_shared.errors import NotFound

# What a requester who may see no creditor is scoped to: a creditor id no case has.
NOBODY = ""


def creditor_scope(requester: Requester, requested: str) -> str | None:
    """The creditor whose cases the requester may touch; None for internal services (any).

    A creditor acts for its own tenant (naming another is NOT_FOUND); a partner acts for the
    creditor it names, the gateway having checked the referral; anyone else gets NOBODY.
    """
    requested = requested.strip()
    if requester.kind == INTERNAL:
        return requested or None
    if requester.kind == "creditor" and requester.tenant_id:
        if requested and requested != requester.tenant_id:
            raise NotFound("creditor_id: no such creditor")
        return requester.tenant_id
    if requester.kind == "partner":
        if not requested:
            raise InvalidField(
                "creditor_id", "is required for a partner (the creditor it acts for)"
            )
        return requested
    return NOBODY


def acting_creditor(requester: Requester, requested: str, *, required: bool) -> str:
    """The one creditor a new case is recorded for; '' when an internal service names none and
    `required` is False (the case's own validation then says creditor_id is required)."""
    scope = creditor_scope(requester, requested)
    if scope == NOBODY:
        raise NotFound("creditor_id: no such creditor")
    if scope is None:
        if required:
            raise InvalidField("creditor_id", "is required")
        return ""
    return scope
