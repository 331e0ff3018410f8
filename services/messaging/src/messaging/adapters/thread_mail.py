"""The thread's e-mail notices: where each party reads its e-mail, and the SMTP sending.

Creditors' and providers' addresses come from the parties file (`"email"` beside each party's
name and address: the same marked stand-in as for postal addresses, until their own services
serve them); the debtor's from intake's case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

import aiosmtplib

from messaging.adapters.email_channel import MailpitLog
from messaging.domain.thread import ThreadParty
from messaging.domain.thread_notices import ThreadNotice
from messaging.service_layer.channels import CaseFactsSource
from recouvra_shared.errors import Unavailable

KEYS = {ThreadParty.CREDITOR: "creditors", ThreadParty.HOLDER: "providers"}


class ThreadAddresses:
    """`PartyAddresses` on the parties file and intake."""

    def __init__(self, parties_file: Path | None, cases: CaseFactsSource) -> None:
        self.parties_file, self.cases = parties_file, cases

    async def email(self, case_id: str, party: ThreadParty, party_id: str) -> str:
        if party is ThreadParty.DEBTOR:
            return (await self.cases.case(case_id)).debtor.email
        if self.parties_file is None or not self.parties_file.exists():
            return ""
        entries = json.loads(self.parties_file.read_text(encoding="utf-8"))
        return str(entries.get(KEYS[party], {}).get(party_id, {}).get("email", ""))


def message_id_header(notice: ThreadNotice, domain: str) -> str:
    """The notice's Message-ID, without its angle brackets."""
    return f"thread-{notice.notice_id}@{domain}"


def notice_mail(
    notice: ThreadNotice, *, sender: str, sender_name: str, domain: str, to: str
) -> EmailMessage:
    """The notice: which case has a new message and where to read it; never its words."""
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message_id_header(notice, domain)}>"
    mail["Subject"] = f"Nouveau message / New message — dossier {notice.case_id}"
    where = (
        "Ouvrez le lien de votre dernier courrier. / Open the link in your last letter."
        if notice.party is ThreadParty.DEBTOR
        else "Connectez-vous à Recouvra. / Sign in to Recouvra."
    )
    mail.set_content(
        f"Un nouveau message vous attend sur le dossier {notice.case_id}.\n"
        f"A new message awaits you on case {notice.case_id}.\n\n{where}\n"
    )
    return mail


@dataclass(frozen=True)
class SmtpNoticeMailer:
    """`NoticeMailer` over SMTP; the notice id is the Message-ID, looked up in `log`."""

    host: str
    port: int
    sender: str
    sender_name: str
    domain: str
    log: MailpitLog
    username: str = ""
    password: str = ""
    start_tls: bool = False

    async def send(self, notice: ThreadNotice, address: str) -> None:
        mail = notice_mail(
            notice, sender=self.sender, sender_name=self.sender_name, domain=self.domain, to=address
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
        except (aiosmtplib.SMTPException, OSError) as failure:
            raise Unavailable(f"smtp: {failure}") from failure

    async def copies(self, notice: ThreadNotice) -> int:
        return await self.log.count(message_id_header(notice, self.domain))
