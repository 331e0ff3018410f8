"""The gateway's request path stays on its event loop: FastAPI runs a plain `def` dependency in a
worker thread, a hop (queue, wake-up, interpreter lock handed over and back) that costs more
than the few attribute reads these dependencies do, on every request."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import iter_route_contexts

from gateway.adapters.security import Passwords, Tokens
from gateway.entrypoints.http import create_app
from services.gateway.tests.unit.gateway_fakes import FakeMatching, FakeStore, marketplace_services


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependants(sub)


def _runs_on_the_loop(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return True
    # A security scheme is an instance whose __call__ is a coroutine function.
    return not inspect.isfunction(call) and inspect.iscoroutinefunction(type(call).__call__)


def test_no_dependency_of_any_route_is_run_in_a_worker_thread(
    store: FakeStore, passwords: Passwords, tokens: Tokens
) -> None:
    services = marketplace_services(store, passwords, tokens, FakeMatching())
    app: FastAPI = create_app(services, {})
    routes = sum(1 for _ in iter_route_contexts(app.routes))
    threaded = {
        f"{sub.call.__module__}.{getattr(sub.call, '__qualname__', sub.call)}"
        for route in iter_route_contexts(app.routes)  # through the included routers
        if (dependant := getattr(route, "dependant", None)) is not None
        for sub in _dependants(dependant)
        if sub.call is not None and not _runs_on_the_loop(sub.call)
    }
    assert routes > 60  # the API's and the web pages' routes were all walked
    assert not threaded, f"plain def dependencies, run in a worker thread: {sorted(threaded)}"
