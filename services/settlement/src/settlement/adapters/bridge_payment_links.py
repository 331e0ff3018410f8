"""Bridge's payment links (API version 2025-01-15) behind settlement's PaymentInitiation port.

What is used, as Bridge documents it: `POST /v3/payment/payment-links` (user as a company name
or a first and last name, `expired_date` up to 90 days, `client_reference`, and one transaction:
amount, currency, label, `end_to_end_id`, beneficiary name and IBAN), `GET
/v3/payment/payment-links/{id}`, `POST /v3/payment/payment-links/{id}/revoke`; every call with
`Client-Id`, `Client-Secret` and `Bridge-Version`. Webhooks (`payment.transaction.created`,
`payment.transaction.updated`, `payment.link.updated`) are JSON `{"content": {...}, "timestamp":
<ms>, "type": ...}` signed in the `BridgeApi-Signature` header as `v1=<HMAC-SHA256 of the raw
body with the webhook's secret, upper-case hex>`, one `v1=` per secret while a secret is being
rotated (two at most).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from recouvra_shared.errors import InvalidField, Unauthenticated, Unavailable
from settlement.domain.payment_links import PaymentStatus, StatusNotification
from settlement.service_layer.payment_link_ports import (
    CreatedLink,
    LinkRequest,
    ProviderLinkState,
)

API_VERSION = "2025-01-15"
SIGNATURE_HEADER = "bridgeapi-signature"
LINKS_PATH = "/v3/payment/payment-links"
_AMOUNT_SLOT = "__recouvra_amount__"

# Bridge's payment statuses (ISO 20022, simplified) reduced to what settlement acts on.
PAYMENT_STATUSES = {
    "CREA": PaymentStatus.PENDING,
    "ACTC": PaymentStatus.PENDING,
    "ACCP": PaymentStatus.PENDING,
    "PDNG": PaymentStatus.PENDING,
    "ACSP": PaymentStatus.PENDING,
    "ACSC": PaymentStatus.EXECUTED,
    "RJCT": PaymentStatus.REJECTED,
    "CANC": PaymentStatus.REJECTED,
}


@dataclass(frozen=True)
class BridgeConfig:
    """Where Bridge answers and the application's credentials; its webhook secrets (two while
    one is rotated)."""

    base_url: str
    client_id: str
    client_secret: str
    webhook_secrets: tuple[str, ...]
    timeout_seconds: float = 10.0


def signature_of(body: bytes, secret: str) -> str:
    """Bridge's signature of a webhook body: HMAC-SHA256 with the secret, upper-case hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest().upper()


def signed_header(body: bytes, secrets: Sequence[str]) -> str:
    """The BridgeApi-Signature header a body carries, one `v1=` per secret."""
    return ",".join(f"v1={signature_of(body, secret)}" for secret in secrets)


def _amount_text(minor: int) -> str:
    return str(Decimal(minor).scaleb(-2))


def _json_with_amount(body: dict[str, Any], minor: int) -> bytes:
    """The request as JSON, the amount written as an exact decimal number (never a float)."""
    text = json.dumps(body, ensure_ascii=False)
    return text.replace(f'"{_AMOUNT_SLOT}"', _amount_text(minor), 1).encode()


def _utc_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _user(request: LinkRequest) -> dict[str, str]:
    if request.payer.company_name:
        return {"company_name": request.payer.company_name}
    return {"first_name": request.payer.first_name, "last_name": request.payer.last_name}


class BridgePaymentLinks:
    """The PaymentInitiation port on Bridge's API."""

    def __init__(self, config: BridgeConfig, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.client = client or httpx.AsyncClient(
            base_url=config.base_url, timeout=config.timeout_seconds
        )

    @property
    def _headers(self) -> dict[str, str]:
        return {
            "Client-Id": self.config.client_id,
            "Client-Secret": self.config.client_secret,
            "Bridge-Version": API_VERSION,
            "Accept": "application/json",
        }

    async def _call(self, method: str, path: str, content: bytes | None = None) -> Any:
        headers = self._headers
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = await self.client.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise Unavailable(f"Bridge did not answer: {type(exc).__name__}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"Bridge answered {response.status_code}")
        if response.status_code >= 400:
            # Settlement's own request was refused: a configuration or programming error.
            raise Unavailable(f"Bridge refused the request: {response.status_code} {response.text}")
        return response.json(parse_float=Decimal) if response.content else None

    async def create_link(self, request: LinkRequest) -> CreatedLink:
        body = {
            "user": _user(request),
            "expired_date": _utc_text(request.expires_at),
            "client_reference": request.reference,
            "transactions": [
                {
                    "amount": _AMOUNT_SLOT,
                    "currency": request.currency,
                    "label": request.label[:140],
                    "end_to_end_id": request.reference,
                    "beneficiary": {
                        "company_name": request.beneficiary_name,
                        "iban": request.beneficiary_iban,
                    },
                }
            ],
        }
        answer = await self._call("POST", LINKS_PATH, _json_with_amount(body, request.amount_minor))
        if not isinstance(answer, dict) or not answer.get("id") or not answer.get("url"):
            raise Unavailable("Bridge answered a link without id or url")
        return CreatedLink(str(answer["id"]), str(answer["url"]), request.expires_at)

    async def revoke_link(self, link_id: str) -> None:
        await self._call("POST", f"{LINKS_PATH}/{link_id}/revoke")

    async def link_status(self, link_id: str) -> ProviderLinkState:
        answer = await self._call("GET", f"{LINKS_PATH}/{link_id}")
        requests = answer.get("payment_requests") or []
        latest = requests[-1].get("status") if requests else None
        return ProviderLinkState(
            link_id,
            str(answer.get("status", "")).lower(),
            PAYMENT_STATUSES.get(str(latest).upper()) if latest else None,
        )

    def parse_notification(
        self, body: bytes, headers: Mapping[str, str]
    ) -> list[StatusNotification]:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
        expected = [signature_of(body, secret) for secret in self.config.webhook_secrets]
        if not any(hmac.compare_digest(g, e) for g in given for e in expected):
            raise Unauthenticated("BridgeApi-Signature: missing or not Bridge's")
        return [notification_of(body)]


def notification_of(body: bytes) -> StatusNotification:
    """A signed webhook body read as a notification; its identity is the body's digest (Bridge
    sends no event id), so a redelivered notification is recognised."""
    try:
        event = json.loads(body)
        content = event["content"]
        kind = str(event["type"])
        sent_at = datetime.fromtimestamp(int(event["timestamp"]) / 1000, UTC)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidField("body", "must be a Bridge webhook: content, timestamp, type") from exc
    if not isinstance(content, dict):
        raise InvalidField("content", "must be an object")
    status = content.get("status")
    payment_status = None
    link_status = None
    if kind.startswith("payment.transaction") and status:
        payment_status = PAYMENT_STATUSES.get(str(status).upper())
    elif kind == "payment.link.updated" and status:
        link_status = str(status).lower()

    def text(name: str) -> str | None:
        value = content.get(name)
        return str(value) if value else None

    return StatusNotification(
        notification_id="bridge:" + hashlib.sha256(body).hexdigest(),
        kind=kind,
        sent_at=sent_at,
        link_id=text("payment_link_id"),
        transaction_id=text("payment_transaction_id"),
        end_to_end_id=text("end_to_end_id"),
        client_reference=text("client_reference"),
        payment_status=payment_status,
        link_status=link_status,
    )
