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


def require_operator() -> None:
    """Only internal services (the gateway's back office) onboard providers."""
    caller = caller_var.get()
    if caller is not None and caller.kind not in ("service", "operator"):
        raise PermissionDenied("caller: only an operator may call this")


def required_case_id(raw: str) -> str:
    """The case id a request names, refused when blank."""
    case_id = raw.strip()
    if not case_id:
        raise InvalidField("case_id", "is required")
    return case_id
