"""E-mail over SMTP (aiosmtplib): the message id is the SMTP Message-ID.

`copies` asks the mail system's own log how many messages carry that Message-ID: locally
Mailpit's API (`MailpitLog`); in production the relay's sent log goes behind the same method.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from typing import Protocol

import aiosmtplib
import httpx

from messaging.service_layer.channels import Rendered, Undeliverable
from recouvra_shared.errors import Unavailable


class SentLog(Protocol):
    """Where the mail system says what it holds, by Message-ID."""

    async def count(self, message_id_header: str) -> int: ...


@dataclass(frozen=True)
class MailpitLog:
    """Mailpit's search API (`message-id:` filter), the local mail system's log."""

    base_url: str

    async def count(self, message_id_header: str) -> int:
        """How many stored messages carry this Message-ID (without angle brackets)."""
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            answer = await client.get(
                "/api/v1/search", params={"query": f'message-id:"{message_id_header}"'}
            )
            answer.raise_for_status()
            return int(answer.json()["messages_count"])


def build_email(
    *, message_id_header: str, sender: str, sender_name: str, recipient: str, rendered: Rendered
) -> EmailMessage:
    """A multipart/alternative e-mail: the plain-text part, then the HTML part with its inline
    images (multipart/related, referenced by `cid:`)."""
    mail = EmailMessage()
    mail["Message-ID"] = f"<{message_id_header}>"
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = recipient
    mail["Subject"] = rendered.subject
    mail["Date"] = formatdate(localtime=False)
    mail.set_content(rendered.text)
    if rendered.html:
        mail.add_alternative(rendered.html, subtype="html")
        html_part = mail.get_body(preferencelist=("html",))
        assert isinstance(html_part, EmailMessage)
        for content_id, png in rendered.inline_images.items():
            html_part.add_related(
                png,
                "image",
                "png",
                cid=f"<{content_id}>",
                disposition="inline",
                filename=f"{content_id}.png",
            )
    return mail


@dataclass
class SmtpChannel:
    """The e-mail channel."""

    host: str
    port: int
    sender: str
    sender_name: str
    domain: str  # right-hand side of every Message-ID
    log: SentLog
    username: str = ""
    password: str = ""
    start_tls: bool = False

    def message_id_header(self, message_id: str) -> str:
        """The Message-ID (without brackets) a message id travels as."""
        return f"{message_id}@{self.domain}"

    async def send(self, message_id: str, recipient: str, rendered: Rendered) -> str:
        """Hand the message to the SMTP server; refused recipients are `Undeliverable`."""
        header = self.message_id_header(message_id)
        mail = build_email(
            message_id_header=header,
            sender=self.sender,
            sender_name=self.sender_name,
            recipient=recipient,
            rendered=rendered,
        )
        try:
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self.username or None,
                password=self.password or None,
                start_tls=self.start_tls,
                timeout=30,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            if all(500 <= code < 600 for code in codes):
                raise Undeliverable(
                    recipient, "; ".join(str(r) for r in refused.recipients)
                ) from refused
            raise Unavailable(f"smtp: recipient deferred ({codes})") from refused
        except (aiosmtplib.SMTPException, OSError) as failure:
            raise Unavailable(f"smtp: {failure}") from failure
        return f"<{header}>"

    async def copies(self, message_id: str) -> int:
        """How many copies the mail system holds."""
        return await self.log.count(self.message_id_header(message_id))

    async def copy_of(self, message_id: str) -> bytes | None:
        """An e-mail carries no PDF (its parts are text, HTML and inline QR images)."""
        return None
