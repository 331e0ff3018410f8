"""The app's error handlers: every answer, even from the outermost middleware, is problem+json."""

from __future__ import annotations

import inspect
import logging

import grpc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.domain.errors import Busy
from gateway.entrypoints.api.problems import (
    PROBLEM_JSON,
    UNREADABLE_BODY,
    FieldError,
    Problem,
    invalid_request,
    problem,
    refusal_problem,
    validation_error,
)
from recouvra_shared.errors import Refusal, Unavailable
from recouvra_shared.grpc_status import refusal_of
from recouvra_shared.outages import describe_failure, is_dependency_outage

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """Answer every error of the app as problem+json."""

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return invalid_request(request, [validation_error(e) for e in exc.errors()])

    async def on_refusal(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refusal)
        return refusal_problem(request, exc)

    async def on_grpc_error(request: Request, exc: Exception) -> JSONResponse:
        # The typed clients raise refusals as such: a status reaching here is a failure (or a
        # refusal a client did not relay, which still reads like any other).
        assert isinstance(exc, grpc.aio.AioRpcError)
        refusal = refusal_of(exc)
        # A backend refusing the token the gateway signed is the gateway's failure.
        if refusal is not None and exc.code() is not grpc.StatusCode.UNAUTHENTICATED:
            return refusal_problem(request, refusal)
        if exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
            # A backend out of room for now (its concurrent-call limit): not the caller's fault
            # and not a failure, so a 503 to retry in a moment, telling nothing of the backend.
            log.warning("backing service busy: %s", exc.details())
            busy = Busy("a backing service is busy; retry in a moment with the same request")
            return refusal_problem(request, busy)
        log.error("backing service failed: %s %s", exc.code(), exc.details())
        return problem(502, "Backing service error", "upstream", request)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400:
            # FastAPI's only 400: a body it could not even decode (not UTF-8, broken multipart).
            # That is bad input like any other, so it gets the same 422 naming the field.
            return invalid_request(request, [FieldError(field="body", rule=UNREADABLE_BODY)])
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        return problem(exc.status_code, str(exc.detail), "http", request, headers=headers or None)

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        if is_dependency_outage(exc):
            # The gateway's own database reset or down mid-request: the request was fine and the
            # same one (same Idempotency-Key) may succeed in a moment, so a 503 as a backend's
            # outage reads, through the refusal handler a page answers with as well.
            log.warning("database outage on %s: %s", request.url.path, describe_failure(exc))
            outage = Unavailable("the gateway's database did not answer")
            answer = request.app.exception_handlers[Refusal](request, outage)
            response: Response = await answer if inspect.isawaitable(answer) else answer
            return response
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return problem(500, "Internal error", "internal", request)

    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Refusal, on_refusal)
    app.add_exception_handler(grpc.aio.AioRpcError, on_grpc_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)


HTTP_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def allowed_methods(request: Request) -> str | None:
    """Every method the path accepts: FastAPI makes one route per method, and Starlette's 405
    names only the first route whose path matched. Mounts (static files) name their own."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    methods = [
        method
        for method in HTTP_METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]
    return ", ".join(methods) or None


def _oversized_fields(scope: Scope) -> list[FieldError] | None:
    """The field to blame: every multipart route of the API takes one `file`, which is what
    makes such a body large."""
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
    if content_type.lower().startswith(b"multipart/form-data"):
        return [FieldError(field="file", rule="is larger than this endpoint accepts")]
    return None


class OversizedBodyAsProblem:
    """Starlette's body limiter answers 413 in plain text, outside every exception handler;
    this outermost layer rewrites that one answer as problem+json."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_problem(message: Message) -> None:
            nonlocal replaced
            if (
                message["type"] == "http.response.start"
                and message["status"] == 413
                and (b"content-type", PROBLEM_JSON.encode()) not in message.get("headers", [])
            ):
                replaced = True
                body = Problem(
                    type="/problems/too-large",
                    title="Request body too large",
                    status=413,
                    detail="the request body is larger than this endpoint accepts",
                    instance=scope.get("path"),
                    errors=_oversized_fields(scope),
                ).model_dump_json(exclude_none=True)
                await send(
                    {
                        "type": "http.response.start",
                        "status": 413,
                        "headers": [
                            (b"content-type", PROBLEM_JSON.encode()),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode()})
            elif not replaced:
                await send(message)

        await self.app(scope, receive, send_problem)


class ProblemApi(FastAPI):
    """FastAPI whose every answer, even from its outermost middleware, is problem+json."""

    def build_middleware_stack(self) -> ASGIApp:
        """The usual stack, with a body-limit refusal made a problem too, just inside Starlette's
        ServerErrorMiddleware: the stack still starts with it, as OpenTelemetry's FastAPI
        instrumentation requires (it skips an app whose stack starts otherwise)."""
        stack = super().build_middleware_stack()
        if isinstance(stack, ServerErrorMiddleware):
            stack.app = OversizedBodyAsProblem(stack.app)
            return stack
        return OversizedBodyAsProblem(stack)
