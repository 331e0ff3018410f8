"""Who is calling matching's gRPC APIs, from the context the platform's interceptor set."""

from __future__ import annotations

from matching.domain.errors import InvalidField
from recouvra_shared.context import caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated


def caller_tenant(kind: str) -> str:
    """The id of the calling provider or creditor; refused for anyone else."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != kind or not caller.tenant_id:
        raise PermissionDenied(f"caller: only a {kind} may call this")
    return caller.tenant_id


# The services (by the name their signed token carries) that may onboard providers: the
# gateway, for its self-service provider sign-up.
SERVICES_ONBOARDING_PROVIDERS = frozenset({"gateway"})


def require_operator() -> None:
    """Only an operator, or a service on the allow-list above, onboards providers."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind == "operator":
        return
    if caller.kind == "service" and caller.subject in SERVICES_ONBOARDING_PROVIDERS:
        return
    raise PermissionDenied("caller: only an operator may call this")


def require_operator_person() -> None:
    """Only an operator (a person the gateway authenticated as one) approves providers: no
    service does on its own account."""
    caller = caller_var.get()
    if caller is None:
        raise Unauthenticated("caller: no authenticated caller")
    if caller.kind != "operator":
        raise PermissionDenied("caller: only an operator may call this")


def required_case_id(raw: str) -> str:
    """The case id a request names, refused when blank."""
    case_id = raw.strip()
    if not case_id:
        raise InvalidField("case_id", "is required")
    return case_id
