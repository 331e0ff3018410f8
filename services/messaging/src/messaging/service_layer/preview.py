"""Shows a message as it would be sent, without sending or recording it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from messaging.domain.content import absent_mentions
from messaging.domain.preview import PreviewRequest, check_may_preview, message_to_preview
from messaging.service_layer.channels import Rendered, Renderer
from messaging.service_layer.compose import FactSources, PortalLinks, compose
from messaging.service_layer.dispatch import visible_text


@dataclass(frozen=True)
class Preview:
    """A rendered message and the R124-4 mentions it lacks."""

    reference: str
    rendered: Rendered
    missing_mentions: tuple[str, ...]


async def preview(
    request: PreviewRequest,
    caller_kind: str,
    caller_tenant: str,
    *,
    sources: FactSources,
    portal: PortalLinks,
    renderer: Renderer,
    now: Callable[[], datetime],
) -> Preview:
    """The message of `request`, for the case's creditor or holder only."""
    case = await sources.cases.case(request.case_id)
    check_may_preview(caller_kind, caller_tenant, case)
    message = message_to_preview(request, case)
    facts = await compose(message, sources, portal, now)
    rendered = renderer.render(facts)
    missing: set[str] = set()
    if message.step == 1:
        parts = [rendered.text] + ([visible_text(rendered.html)] if rendered.html else [])
        missing = {m.value for part in parts for m in absent_mentions(part, facts)}
    return Preview(
        reference=facts.reference, rendered=rendered, missing_mentions=tuple(sorted(missing))
    )
