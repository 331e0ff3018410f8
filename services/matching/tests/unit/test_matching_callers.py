"""Who may onboard providers: an operator, or the gateway's own service identity."""

from __future__ import annotations

import pytest

from matching.entrypoints.callers import require_operator
from recouvra_shared.context import Caller, caller_var
from recouvra_shared.errors import PermissionDenied, Unauthenticated


def check(caller: Caller | None) -> None:
    token = caller_var.set(caller)
    try:
        require_operator()
    finally:
        caller_var.reset(token)


def test_an_operator_or_the_gateway_onboards_and_nobody_else() -> None:
    check(Caller("operator", "ops@recouvra"))
    check(Caller("service", "gateway"))
    with pytest.raises(Unauthenticated):
        check(None)
    for stranger in (Caller("service", "intake"), Caller("provider", "p", "prov-1")):
        with pytest.raises(PermissionDenied):
            check(stranger)
