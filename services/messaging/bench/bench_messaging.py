"""Messages rendered and sent per second, against raw SMTP sends of the same bytes.

    python services/messaging/bench/bench_messaging.py [--messages N] [--quick]

Issue 15: each of N reminder e-mails is rendered the way the dispatcher renders it (Jinja2 in
its sandbox, the MJML layout, the EPC QR code as a PNG) and handed to the stack's Mailpit by
messaging's `SmtpChannel`; then the very same bytes (the e-mails built from those renderings)
are sent again with aiosmtplib alone, to the same server, in the same run. The ratio is what
rendering and messaging's channel cost over SMTP itself. The messages are deleted from Mailpit
afterwards (a search on this run's recipient domain).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import aiosmtplib
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from messaging.adapters.email_channel import MailpitLog, SmtpChannel, build_email
from messaging.adapters.rendering import JinjaRenderer
from messaging.domain.content import MessageFacts, message_reference
from messaging.domain.outgoing import Channel, MessageToSend, Tone
from services.messaging.tests.unit.channel_fakes import (
    CASE,
    CASE_ID,
    CREDITOR,
    DEBTOR,
    HOLDER,
    NOW,
    PAYMENT,
)
from tests.support.bench_table import Row, Target, report

MAILPIT = os.environ.get("RECOUVRA_MAILPIT_URL", "http://127.0.0.1:18025")
SMTP_HOST = os.environ.get("RECOUVRA_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("RECOUVRA_SMTP_PORT", "11025"))
DOMAIN = "recouvra.local"


def facts(message_id: str, recipient: str) -> MessageFacts:
    """A later reminder (step 2) by e-mail, as the dispatcher composes it."""
    return MessageFacts(
        message=MessageToSend(
            message_id=message_id,
            case_id=CASE_ID,
            creditor_id="creditor-1",
            holder_id="provider-1",
            round=1,
            step=2,
            channel=Channel.EMAIL,
            template="reminder",
            tone=Tone.REMINDER,
            language="fr",
            first_sent_on=NOW,
        ),
        reference=message_reference(CASE_ID, 1, 2),
        sent_on=NOW.date(),
        debtor=replace(DEBTOR, email=recipient),
        holder=HOLDER,
        creditor=CREDITOR,
        invoices=CASE.invoices,
        amounts=CASE.amounts,
        payment=PAYMENT,
        portal_url="https://portal.example/portal/token",
        first_reference=message_reference(CASE_ID, 1, 1),
        first_sent_on=NOW.date(),
    )


async def run(count: int) -> list[Row]:
    run_domain = f"bench-{uuid.uuid4().hex[:8]}.example"
    recipient = f"debiteur@{run_domain}"
    renderer = JinjaRenderer()
    channel = SmtpChannel(
        host=SMTP_HOST,
        port=SMTP_PORT,
        sender="recouvrement@recouvra.local",
        sender_name="Recouvra",
        domain=DOMAIN,
        log=MailpitLog(MAILPIT),
    )
    ids = [str(uuid.uuid4()) for _ in range(count)]
    renderings = []
    started = time.perf_counter()
    for message_id in ids:
        rendered = renderer.render(facts(message_id, recipient))
        await channel.send(message_id, recipient, rendered)
        renderings.append(rendered)
    messaging_rate = count / (time.perf_counter() - started)

    mails = [
        build_email(
            message_id_header=f"raw-{message_id}@{DOMAIN}",
            sender="recouvrement@recouvra.local",
            sender_name="Recouvra",
            recipient=recipient,
            rendered=rendered,
        )
        for message_id, rendered in zip(ids, renderings, strict=True)
    ]
    started = time.perf_counter()
    for mail in mails:
        await aiosmtplib.send(mail, hostname=SMTP_HOST, port=SMTP_PORT, timeout=30)
    raw_rate = count / (time.perf_counter() - started)

    async with httpx.AsyncClient(base_url=MAILPIT, timeout=30) as client:
        await client.request("DELETE", "/api/v1/search", params={"query": f"to:{run_domain}"})
    size = len(mails[0].as_bytes())
    print(
        f"{count} e-mails of {size:,} bytes: rendered and sent {messaging_rate:.1f}/s, "
        f"raw SMTP {raw_rate:.1f}/s"
    )
    return [
        Row(
            path="messaging: reminder e-mails rendered (Jinja2, MJML, EPC QR) and sent",
            figure=messaging_rate,
            unit="messages/s",
            baseline=raw_rate,
            baseline_label="raw SMTP sends of the same bytes",
            # The contact limits send each debtor at most one message a day: 100,000 debtors
            # at that cap are 1.2 messages a second; one replica must keep up with that, twice.
            target=Target("figure", ">=", 2.4),
            note=f"{count} e-mails of {size:,} bytes, sequential, Mailpit",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="fewer messages")
    args = parser.parse_args()
    count = 60 if args.quick else args.messages
    report(asyncio.run(run(count)))


if __name__ == "__main__":
    main()
