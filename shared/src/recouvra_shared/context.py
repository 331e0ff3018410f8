"""Request-wide values carried through logs, events and gRPC calls of one unit of work."""

from __future__ import annotations

import secrets
from contextvars import ContextVar
from dataclasses import dataclass

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)
traceparent_var: ContextVar[str | None] = ContextVar("traceparent", default=None)
case_id_var: ContextVar[str | None] = ContextVar("case_id", default=None)


@dataclass(frozen=True)
class Caller:
    """Who is asking: a creditor tenant, a provider, the debtor portal or another service (whose
    subject is its own name), as a verified token names it (`recouvra_shared.identity`)."""

    kind: str
    subject: str
    tenant_id: str | None = None
    role: str = ""


caller_var: ContextVar[Caller | None] = ContextVar("caller", default=None)
# The client's Idempotency-Key for the call being served or made: the gRPC interceptors carry it
# in the `idempotency-key` metadata, so the service that acts deduplicates on (caller, key).
idempotency_key_var: ContextVar[str | None] = ContextVar("idempotency_key", default=None)


def new_traceparent() -> str:
    """A fresh W3C traceparent: version 00, random trace and span ids, sampled."""
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def trace_id_of(traceparent: str) -> str | None:
    """The trace id inside a W3C traceparent, or None when it is malformed."""
    parts = traceparent.split("-")
    if len(parts) == 4 and len(parts[1]) == 32:
        return parts[1]
    return None


def adopt_traceparent(traceparent: str | None) -> str:
    """Continue the given trace (or start one) for the current context; returns it."""
    if not traceparent or trace_id_of(traceparent) is None:
        traceparent = new_traceparent()
    traceparent_var.set(traceparent)
    trace_id_var.set(trace_id_of(traceparent))
    return traceparent
