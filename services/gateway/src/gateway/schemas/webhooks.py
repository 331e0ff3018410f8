"""Webhook endpoints and their delivery log, as the REST API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.schemas.common import TextInput

EventType = Literal[
    "case.scored",
    "case.quoted",
    "case.assigned",
    "case.recalled",
    "payment.received",
    "payment.declared",
    "dispute.opened",
    "promise.made",
    "plan.proposed",
    "plan.agreed",
    "case.closed",
    "case.reopened",
]

ENDPOINT_EXAMPLE: Any = {
    "id": "0c8d1f5e-6a2b-4f1e-9d3c-7b4a5e6f7a8b",
    "url": "https://erp.example.com/hooks/recouvra",
    "event_types": ["case.assigned", "payment.received", "case.closed"],
    "description": "ERP",
    "enabled": True,
    "disabled_reason": "",
    "created_at": "2026-12-03T10:15:00Z",
    "previous_secret_until": None,
}
DELIVERY_EXAMPLE: Any = {
    "id": "5b1e7c9d-2f3a-4b5c-8d6e-9f0a1b2c3d4e",
    "endpoint_id": ENDPOINT_EXAMPLE["id"],
    "webhook_id": "msg_9f1c2b7d4e5a4c6b8a7d1e2f3a4b5c6d",
    "event_id": "3f1d7c8e-1c52-4b1e-b9e3-0a4f1f4f7b10",
    "event_type": "case.assigned",
    "case_id": "7b0e8c9e-2f4d-4b7a-9d51-1a2b3c4d5e6f",
    "status": "delivered",
    "attempts": 2,
    "next_attempt_at": None,
    "created_at": "2026-12-03T10:16:00Z",
    "attempt_log": [
        {
            "attempted_at": "2026-12-03T10:16:00Z",
            "status_code": 500,
            "latency_ms": 84,
            "error": "",
            "response_excerpt": "Internal Server Error",
        },
        {
            "attempted_at": "2026-12-03T10:16:30Z",
            "status_code": 200,
            "latency_ms": 41,
            "error": "",
            "response_excerpt": "ok",
        },
    ],
}


class WebhookEndpointIn(TextInput):
    """A new endpoint: where to post, and which events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": ENDPOINT_EXAMPLE["url"],
                    "event_types": ENDPOINT_EXAMPLE["event_types"],
                    "description": "ERP",
                }
            ]
        },
    )

    url: str = Field(
        max_length=2048,
        description="https URL; loopback, private, link-local and metadata addresses are "
        "refused, also when the host name resolves to one (checked again at each delivery)",
        examples=["https://erp.example.com/hooks/recouvra"],
    )
    event_types: list[EventType] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=200)


class WebhookEndpointChange(TextInput):
    """The fields to change; those left out stay. `enabled: true` re-enables an endpoint that
    was disabled after failing for three days."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"enabled": True}]})

    url: str | None = Field(default=None, max_length=2048)
    event_types: list[EventType] | None = Field(default=None, min_length=1, max_length=10)
    description: str | None = Field(default=None, max_length=200)
    enabled: bool | None = None


class WebhookEndpointView(BaseModel):
    """An endpoint (never its secrets)."""

    model_config = ConfigDict(json_schema_extra={"examples": [ENDPOINT_EXAMPLE]})

    id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    disabled_reason: str = Field(description="Why it was disabled; empty while enabled")
    created_at: datetime | None
    previous_secret_until: datetime | None = Field(
        description="After a rotation, until when the replaced secret also signs"
    )


class WebhookEndpointWithSecret(WebhookEndpointView):
    """An endpoint with its signing secret, shown in this answer only (a replay of the request
    answers null): verify with any Standard Webhooks library."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [ENDPOINT_EXAMPLE | {"secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]
        }
    )

    secret: str | None = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class WebhookEndpointList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [ENDPOINT_EXAMPLE]}]})

    items: list[WebhookEndpointView]


class WebhookAttemptView(BaseModel):
    attempted_at: datetime | None
    status_code: int | None = Field(description="null when no answer came")
    latency_ms: int
    error: str
    response_excerpt: str = Field(description="The answer's first 1024 characters")


class WebhookDeliveryView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [DELIVERY_EXAMPLE]})

    id: str
    endpoint_id: str
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt")
    event_id: str
    event_type: str
    case_id: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime | None
    attempt_log: list[WebhookAttemptView]


class WebhookDeliveryList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [DELIVERY_EXAMPLE]}]})

    items: list[WebhookDeliveryView]
