"""Signed webhooks to creditors: which events, where to (never inside the platform), when to retry.

The rules as pure functions; the use cases in `service_layer/webhooks.py` apply them.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from recouvra_shared.errors import InvalidField, NotFound

# Event types a creditor may choose, and the Kafka topic (producer, event, version) each comes
# from. None: the fact is not published by any service yet; an endpoint may subscribe to it
# already.
EVENT_TOPICS: dict[str, tuple[str, str, int] | None] = {
    "case.scored": ("scoring", "case-scored", 1),
    "case.quoted": ("matching", "quote-issued", 1),
    "case.assigned": ("matching", "case-assigned", 1),
    "case.recalled": ("matching", "case-recalled", 1),
    "payment.received": ("settlement", "payment-received", 1),
    # The debtor says it paid already (with a proof): the creditor checks its own account.
    "payment.declared": ("messaging", "debtor-payment-declared", 1),
    "dispute.opened": ("messaging", "dispute-opened", 1),
    "promise.made": ("messaging", "promise-made", 1),
    "plan.proposed": ("messaging", "plan-proposed", 1),
    "plan.agreed": ("messaging", "plan-agreed", 1),
    "case.closed": ("matching", "case-closed", 1),
    # A bank reversal undid the payment that closed the case: it is open again.
    "case.reopened": ("matching", "case-reopened", 1),
}
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 200
# Standard Webhooks: retries for three days after the first attempt, then the delivery fails.
RETRY_PERIOD = timedelta(days=3)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_PAUSE = timedelta(hours=6)
# How long the replaced secret still signs after a rotation, so receivers can switch.
PREVIOUS_SECRET_GRACE = timedelta(hours=24)
RESPONSE_EXCERPT_CHARS = 1024
DELIVERY_ID_NAMESPACE = uuid.UUID("5d0f6b52-0d43-4c4c-9a3e-1f61c3b7e2a9")


class WebhookEndpointNotFound(NotFound):
    """No such endpoint for this creditor (a foreign one reads the same)."""


class WebhookDeliveryNotFound(NotFound):
    """No such delivery for this creditor (a foreign one reads the same)."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where one creditor wants some of its cases' events posted, and the secrets that sign them."""

    endpoint_id: str
    creditor_id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    enabled: bool
    disabled_reason: str
    description: str
    created_at: datetime

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The current secret, and the replaced one while its grace period lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)

    def wants(self, event_type: str) -> bool:
        """True when this endpoint is enabled and subscribed to `event_type`."""
        return self.enabled and event_type in self.event_types


def event_type_of_topic(producer: str, event: str, version: int) -> str:
    """The webhook event type a consumed topic carries."""
    for name, topic in EVENT_TOPICS.items():
        if topic == (producer, event, version):
            return name
    raise KeyError(f"{producer}.{event}.v{version} carries no webhook event")


def checked_event_types(chosen: Iterable[str]) -> tuple[str, ...]:
    """The chosen event types, deduplicated in catalogue order; refused when empty or unknown."""
    wanted = set(chosen)
    unknown = sorted(wanted - EVENT_TOPICS.keys())
    if unknown:
        known = ", ".join(EVENT_TOPICS)
        raise InvalidField("event_types", f"unknown event type {unknown[0]!r}; known: {known}")
    if not wanted:
        raise InvalidField("event_types", "choose at least one event type")
    return tuple(name for name in EVENT_TOPICS if name in wanted)


def checked_description(text: str) -> str:
    """A short label for the creditor's own use."""
    text = text.strip()
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidField("description", f"at most {MAX_DESCRIPTION_LENGTH} characters")
    return text


def checked_url(url: str, *, allow_private: bool) -> str:
    """An absolute https URL whose host, when it is an address, is public.

    A host name is resolved and checked again at each delivery (`check_resolved`): checking it
    only here would let DNS answer a public address now and an internal one later.
    `allow_private` (development only) also accepts http and loopback or private targets.
    """
    url = url.strip()
    if not url or len(url) > MAX_URL_LENGTH:
        raise InvalidField("url", f"an absolute URL of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port out of range)
    except ValueError as exc:
        raise InvalidField("url", "not a valid URL") from exc
    allowed_schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed_schemes:
        raise InvalidField("url", "must use https")
    if not parts.hostname:
        raise InvalidField("url", "must name a host")
    if parts.username or parts.password:
        raise InvalidField("url", "must not carry credentials")
    if parts.fragment:
        raise InvalidField("url", "must not carry a fragment")
    host = parts.hostname.rstrip(".").lower()
    internal = host == "localhost" or host.endswith((".localhost", ".internal", ".local"))
    if internal and not allow_private:
        raise InvalidField("url", "must not target a loopback or internal host")
    literal = _address(host)
    if literal is not None:
        check_resolved([literal], allow_private=allow_private)
    return url


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, the
    cloud metadata address 169.254.169.254, carrier-grade NAT, multicast or reserved)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast and not address.is_reserved


def check_resolved(addresses: Sequence[object], *, allow_private: bool) -> None:
    """Refuse a target when any address its host resolves to is not public."""
    if not addresses:
        raise InvalidField("url", "the host does not resolve")
    if allow_private:
        return
    for raw in addresses:
        address = raw if isinstance(raw, ipaddress.IPv4Address | ipaddress.IPv6Address) else None
        if address is None:
            address = _address(str(raw))
        if address is None or not is_public(address):
            raise InvalidField(
                "url", "must not target a loopback, private, link-local or metadata address"
            )


def webhook_id(event_id: str, endpoint_id: str) -> str:
    """The webhook-id header: the same for every attempt of one event to one endpoint, so a
    receiver can drop a redelivery; different per endpoint."""
    return f"msg_{uuid.uuid5(DELIVERY_ID_NAMESPACE, f'{event_id}:{endpoint_id}').hex}"


def retry_pause(attempts: int, jitter: Callable[[], float]) -> timedelta:
    """The pause after the `attempts`-th failed attempt: 30 s doubling each time, at most 6 h,
    each drawn between half and all of that (`jitter()` in [0, 1)), so that endpoints that failed
    together do not retry together."""
    ceiling: timedelta = min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20), LONGEST_PAUSE)
    return ceiling * (0.5 + 0.5 * jitter())


def next_attempt_at(
    first_attempt_at: datetime, now: datetime, attempts: int, jitter: Callable[[], float]
) -> datetime | None:
    """When to try again after a failed attempt, or None once three days have passed since the
    first attempt (the delivery then fails for good)."""
    deadline = first_attempt_at + RETRY_PERIOD
    if now >= deadline:
        return None
    return min(now + retry_pause(attempts, jitter), deadline)


def is_success(status_code: int | None) -> bool:
    """A 2xx answer delivers; redirects are not followed (they could point inside)."""
    return status_code is not None and 200 <= status_code < 300
