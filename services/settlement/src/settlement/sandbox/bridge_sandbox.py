"""SANDBOX of the subset of Bridge's payment-links API (version 2025-01-15) that settlement uses,
with the same request and answer shapes and the same webhook signatures, plus a few `/sandbox/`
routes a test (or a person on the link's page) uses to drive a payment: execute, reject, expire.

Written from Bridge's documentation, independently of settlement's adapter (the signature is
computed here again), so a test through it checks the adapter against the documented contract.
Development and tests only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

VERSION = "2025-01-15"
MAX_DAYS = 90


@dataclass(frozen=True)
class SandboxConfig:
    """The application's credentials, where webhooks go, and the secret that signs them."""

    client_id: str
    client_secret: str
    webhook_url: str
    webhook_secret: str
    public_url: str


@dataclass
class SandboxLink:
    """A payment link and the payments made from it."""

    link_id: str
    body: dict[str, Any]
    expired_date: datetime
    status: str = "valid"
    transactions: list[dict[str, str]] = field(default_factory=list)

    def answer(self) -> dict[str, Any]:
        txn = self.body["transactions"][0]
        return {
            "id": self.link_id,
            "status": self.status,
            "client_reference": self.body.get("client_reference"),
            "expired_date": self.body["expired_date"],
            "user": self.body["user"],
            "transactions": [txn],
            "payment_requests": [
                {"id": t["payment_request_id"], "status": t["status"]} for t in self.transactions
            ],
        }


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"type": code, "message": message}, status_code=status)


def _problems(body: Any) -> list[str]:
    """What Bridge would refuse in a create-link request."""
    if not isinstance(body, dict):
        return ["body: must be an object"]
    problems = []
    user = body.get("user") or {}
    if not (user.get("company_name") or (user.get("first_name") and user.get("last_name"))):
        problems.append("user: company_name, or first_name and last_name")
    transactions = body.get("transactions")
    if not isinstance(transactions, list) or not transactions:
        return [*problems, "transactions: at least one"]
    for n, txn in enumerate(transactions):
        try:
            amount = Decimal(str(txn.get("amount")))
            if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
                problems.append(f"transactions[{n}].amount: positive, two decimals at most")
        except InvalidOperation:
            problems.append(f"transactions[{n}].amount: a number")
        if txn.get("currency") != "EUR":
            problems.append(f"transactions[{n}].currency: EUR")
        if not (txn.get("beneficiary") or {}).get("iban"):
            problems.append(f"transactions[{n}].beneficiary.iban: required")
        if len(str(txn.get("end_to_end_id", ""))) > 35:
            problems.append(f"transactions[{n}].end_to_end_id: 35 characters at most")
    try:
        expires = datetime.fromisoformat(str(body.get("expired_date")).replace("Z", "+00:00"))
        if expires > datetime.now(UTC) + timedelta(days=MAX_DAYS, minutes=5):
            problems.append("expired_date: 90 days at most")
    except ValueError:
        problems.append("expired_date: an ISO 8601 date-time")
    return problems


def sandbox_app(config: SandboxConfig) -> Starlette:
    """The sandbox as an ASGI application; its state lives as long as the process."""
    links: dict[str, SandboxLink] = {}
    deliveries: list[dict[str, Any]] = []

    def authorised(request: Request) -> JSONResponse | None:
        if request.headers.get("Bridge-Version") != VERSION:
            return _error(400, "invalid_version", f"Bridge-Version must be {VERSION}")
        if (
            request.headers.get("Client-Id") != config.client_id
            or request.headers.get("Client-Secret") != config.client_secret
        ):
            return _error(401, "unauthorized", "invalid client credentials")
        return None

    async def post_webhook(kind: str, content: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(
            {"content": content, "timestamp": int(time.time() * 1000), "type": kind}
        ).encode()
        signature = hmac.new(config.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
        headers = {
            "Content-Type": "application/json",
            "BridgeApi-Signature": f"v1={signature.upper()}",
        }
        started = time.perf_counter()
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                answer = await client.post(config.webhook_url, content=body, headers=headers)
            status = answer.status_code
        except httpx.HTTPError as exc:
            status = 0
            headers["X-Sandbox-Error"] = type(exc).__name__
        delivery = {
            "type": kind,
            "body": body.decode(),
            "headers": headers,
            "status": status,
            # Sent to answered: the receiver answers once what it booked is committed.
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 3),
        }
        deliveries.append(delivery)
        return delivery

    def found(request: Request) -> SandboxLink | None:
        link = links.get(request.path_params["link_id"])
        if link is not None and link.status == "valid" and link.expired_date <= datetime.now(UTC):
            link.status = "expired"
        return link

    async def create(request: Request) -> JSONResponse:
        refused = authorised(request)
        if refused:
            return refused
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "invalid_body", "not JSON")
        problems = _problems(body)
        if problems:
            return _error(400, "invalid_request", "; ".join(problems))
        link_id = str(uuid.uuid4())
        expires = datetime.fromisoformat(body["expired_date"].replace("Z", "+00:00"))
        links[link_id] = SandboxLink(link_id, body, expires)
        return JSONResponse({"id": link_id, "url": f"{config.public_url}/link/{link_id}"})

    async def read(request: Request) -> JSONResponse:
        refused = authorised(request)
        if refused:
            return refused
        link = found(request)
        if link is None:
            return _error(404, "not_found", "no such payment link")
        return JSONResponse(link.answer())

    async def revoke(request: Request) -> JSONResponse:
        refused = authorised(request)
        if refused:
            return refused
        link = found(request)
        if link is None:
            return _error(404, "not_found", "no such payment link")
        if link.status != "valid":
            return _error(409, "conflict", f"the link is {link.status}")
        link.status = "revoked"
        await post_webhook("payment.link.updated", _link_content(link))
        return JSONResponse({"id": link.link_id, "status": link.status})

    def _link_content(link: SandboxLink) -> dict[str, Any]:
        content = {"payment_link_id": link.link_id, "status": link.status}
        if link.body.get("client_reference"):
            content["client_reference"] = link.body["client_reference"]
        return content

    def _transaction_content(link: SandboxLink, txn: dict[str, str]) -> dict[str, Any]:
        content = {
            "payment_transaction_id": txn["payment_transaction_id"],
            "payment_request_id": txn["payment_request_id"],
            "payment_link_id": link.link_id,
            "status": txn["status"],
        }
        if link.body.get("client_reference"):
            content["client_reference"] = link.body["client_reference"]
        end_to_end = link.body["transactions"][0].get("end_to_end_id")
        if end_to_end:
            content["end_to_end_id"] = end_to_end
        return content

    async def execute(request: Request) -> JSONResponse:
        link = found(request)
        if link is None:
            return _error(404, "not_found", "no such payment link")
        if link.status != "valid":
            return _error(409, "conflict", f"the link is {link.status}")
        txn = {
            "payment_transaction_id": str(uuid.uuid4()),
            "payment_request_id": str(uuid.uuid4()),
            "status": "PDNG",
        }
        link.transactions.append(txn)
        sent = [await post_webhook("payment.transaction.created", _transaction_content(link, txn))]
        txn["status"] = "ACSC"
        link.status = "completed"
        sent.append(
            await post_webhook("payment.transaction.updated", _transaction_content(link, txn))
        )
        sent.append(await post_webhook("payment.link.updated", _link_content(link)))
        return JSONResponse(
            {"payment_transaction_id": txn["payment_transaction_id"], "deliveries": sent}
        )

    async def reject(request: Request) -> JSONResponse:
        """The debtor's bank rejects the payment: the latest one made from the link (even one
        reported executed, as Bridge warns can happen), or a new attempt."""
        link = found(request)
        if link is None:
            return _error(404, "not_found", "no such payment link")
        if link.transactions:
            txn = link.transactions[-1]
        else:
            txn = {
                "payment_transaction_id": str(uuid.uuid4()),
                "payment_request_id": str(uuid.uuid4()),
            }
            link.transactions.append(txn)
        txn["status"] = "RJCT"
        sent = [await post_webhook("payment.transaction.updated", _transaction_content(link, txn))]
        return JSONResponse(
            {"payment_transaction_id": txn["payment_transaction_id"], "deliveries": sent}
        )

    async def expire(request: Request) -> JSONResponse:
        link = found(request)
        if link is None:
            return _error(404, "not_found", "no such payment link")
        if link.status != "valid":
            return _error(409, "conflict", f"the link is {link.status}")
        link.status = "expired"
        sent = [await post_webhook("payment.link.updated", _link_content(link))]
        return JSONResponse({"deliveries": sent})

    async def page(request: Request) -> HTMLResponse:
        link = found(request)
        if link is None:
            return HTMLResponse("<h1>Lien inconnu</h1>", status_code=404)
        txn = link.body["transactions"][0]
        action = f"/sandbox/payment-links/{link.link_id}"
        return HTMLResponse(
            "<!doctype html><html lang=fr><meta charset=utf-8><title>SANDBOX Bridge</title>"
            "<p><strong>SANDBOX</strong> - aucun argent ne circule.</p>"
            f"<p>Payer {txn['amount']} {txn['currency']} a "
            f"{txn['beneficiary'].get('company_name', '')} - ref. {txn.get('end_to_end_id', '')}"
            f" - statut : {link.status}</p>"
            f"<form method=post action={action}/execute><button>Payer</button></form>"
            f"<form method=post action={action}/reject><button>Refus banque</button></form>"
        )

    async def list_deliveries(request: Request) -> JSONResponse:
        return JSONResponse(deliveries)

    return Starlette(
        routes=[
            Route("/v3/payment/payment-links", create, methods=["POST"]),
            Route("/v3/payment/payment-links/{link_id}", read, methods=["GET"]),
            Route("/v3/payment/payment-links/{link_id}/revoke", revoke, methods=["POST"]),
            Route("/sandbox/payment-links/{link_id}/execute", execute, methods=["POST"]),
            Route("/sandbox/payment-links/{link_id}/reject", reject, methods=["POST"]),
            Route("/sandbox/payment-links/{link_id}/expire", expire, methods=["POST"]),
            Route("/sandbox/deliveries", list_deliveries, methods=["GET"]),
            Route("/link/{link_id}", page, methods=["GET"]),
        ]
    )
