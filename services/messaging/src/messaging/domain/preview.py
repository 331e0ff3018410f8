"""Who may preview a case's messages, and what a preview request means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from messaging.domain.content import CaseFacts
from messaging.domain.outgoing import Channel, MessageToSend, Tone
from recouvra_shared.errors import InvalidRequest, NotFound, Violation

TEMPLATES = {
    "first_letter": Tone.REMINDER,
    "reminder": Tone.FIRM,
    "formal_notice": Tone.FORMAL_NOTICE,
}
PREVIEW_ID = "00000000-0000-0000-0000-000000000000"  # a preview is never sent


@dataclass(frozen=True)
class PreviewRequest:
    """A step of a holder's plan to show, as asked."""

    case_id: str
    round: int = 1
    step: int = 1
    channel: str = "email"
    template: str = ""
    language: str = "fr"
    first_sent_on: str = ""


def check_may_preview(caller_kind: str, caller_tenant: str, case: CaseFacts) -> None:
    """The case's creditor and its holder now may; anyone else sees no such case."""
    if caller_kind == "creditor" and caller_tenant and caller_tenant == case.creditor_id:
        return
    if caller_kind == "provider" and caller_tenant and caller_tenant == case.holder_id:
        return
    raise NotFound("case_id: no such case")


def message_to_preview(request: PreviewRequest, case: CaseFacts) -> MessageToSend:
    """The message the request describes, every field checked and each refusal named."""
    problems: list[Violation] = []
    channels = {c.value: c for c in Channel}
    channel = channels.get(request.channel or "email")
    if channel is None:
        problems.append(Violation("channel", f"one of {sorted(channels)}"))
    template = request.template or ("first_letter" if request.step <= 1 else "reminder")
    if template not in TEMPLATES:
        problems.append(Violation("template", f"one of {sorted(TEMPLATES)}"))
    if request.language not in ("fr", "en"):
        problems.append(Violation("language", "fr or en"))
    if not 1 <= request.round <= 3:
        problems.append(Violation("round", "from 1 to 3"))
    if request.step < 1:
        problems.append(Violation("step", "at least 1"))
    first: datetime | None = None
    if request.step > 1:
        try:
            first = datetime.combine(
                date.fromisoformat(request.first_sent_on), datetime.min.time(), UTC
            )
        except ValueError:
            problems.append(Violation("first_sent_on", "an ISO 8601 date, required after step 1"))
    if problems:
        raise InvalidRequest(problems)
    assert channel is not None
    return MessageToSend(
        message_id=PREVIEW_ID,
        case_id=case.case_id,
        creditor_id=case.creditor_id,
        holder_id=case.holder_id,
        round=request.round,
        step=request.step,
        channel=channel,
        template=template,
        tone=TEMPLATES[template],
        language=request.language,
        first_sent_on=first,
    )
