"""A permanent bounce suppresses the address; a delay or an ordinary mail does not."""

from __future__ import annotations

from dataclasses import dataclass, field

from messaging.domain.bounces import parse_dsn
from messaging.domain.sent_once import SendState, new_record
from messaging.service_layer.bounces import suppress_bounced

from .channel_fakes import NOW, FakeMessagingUnitOfWork, Tables, make_dsn


def test_a_permanent_failure_names_the_address_and_the_bounced_mail() -> None:
    (bounce,) = parse_dsn(make_dsn("Gone@Example.org", "m-1@recouvra.local"))
    assert bounce.address == "gone@example.org"
    assert bounce.status == "5.1.1"
    assert bounce.original_message_id == "m-1@recouvra.local"


def test_a_delay_or_a_plain_mail_is_no_bounce() -> None:
    assert parse_dsn(make_dsn("a@example.org", "m", action="delayed", status="4.4.1")) == []
    assert parse_dsn(b"From: a@example.org\r\nSubject: hello\r\n\r\nhi\r\n") == []


@dataclass
class Mailbox:
    mails: list[tuple[str, bytes]]
    read: list[str] = field(default_factory=list)

    async def unread(self) -> list[tuple[str, bytes]]:
        return [m for m in self.mails if m[0] not in self.read]

    async def mark_read(self, ids: list[str]) -> None:
        self.read += ids


async def test_bounced_addresses_are_suppressed_once_and_the_mails_marked_read() -> None:
    tables = Tables()
    mailbox = Mailbox(
        [("1", make_dsn("gone@example.org", "m-1")), ("2", b"Subject: hi\r\n\r\nnot a DSN\r\n")]
    )
    assert await suppress_bounced(mailbox, lambda: FakeMessagingUnitOfWork(tables)) == 1
    assert list(tables.suppressed) == [("email", "gone@example.org")]
    assert mailbox.read == ["1", "2"]
    assert await suppress_bounced(mailbox, lambda: FakeMessagingUnitOfWork(tables)) == 0


async def test_the_bounced_message_is_marked_on_its_record() -> None:
    tables = Tables()
    sent = new_record("m-1", "case-1", "email", NOW).attempt(NOW).sent("<m-1@x>", 1, NOW)
    tables.sent["m-1"] = sent
    mailbox = Mailbox([("1", make_dsn("gone@example.org", "m-1@recouvra.local"))])
    await suppress_bounced(mailbox, lambda: FakeMessagingUnitOfWork(tables), lambda: NOW)
    assert tables.sent["m-1"].state is SendState.SENT
    assert tables.sent["m-1"].reason.startswith("bounced: bounced 5.1.1")
