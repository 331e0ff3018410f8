"""Standard Webhooks signatures (https://www.standardwebhooks.com/): what a receiver verifies.

Each secret is `whsec_` and 32 random bytes in base64; the signature header lists one `v1,...`
per secret in use, so a receiver holding either secret during a rotation verifies the message.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret, shown to the creditor once."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def webhook_body(event_type: str, occurred_at: datetime, data: Mapping[str, Any]) -> str:
    """The JSON a receiver gets: `type`, `timestamp` (when the fact happened) and `data`; bytes
    fixed at enqueue time so that every attempt signs the same body."""
    return json.dumps(
        {"type": event_type, "timestamp": occurred_at.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


def signed_headers(
    message_id: str, sent_at: datetime, body: str, signing_secrets: Sequence[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt, signed by every secret in use."""
    signatures = " ".join(
        Webhook(secret).sign(msg_id=message_id, timestamp=sent_at, data=body)
        for secret in signing_secrets
    )
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
    }
