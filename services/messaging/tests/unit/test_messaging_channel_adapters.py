"""What leaves on each channel: an e-mail with a plain-text part, an HTML part and the QR inline
under its content id; a letter's PDF and its manifest line, found again by message id."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from messaging.adapters.email_channel import build_email
from messaging.adapters.print_and_post import LetterFolder, SmsSink
from messaging.adapters.rendering import QR_CONTENT_ID, JinjaRenderer
from messaging.domain.outgoing import Channel

from .test_messaging_content import facts


def test_the_email_has_text_html_and_the_qr_inline_under_its_message_id() -> None:
    rendered = JinjaRenderer().render(facts("fr", Channel.EMAIL))
    mail = build_email(
        message_id_header="m-1@recouvra.local",
        sender="recouvrement@recouvra.local",
        sender_name="Recouvra",
        recipient="compta@acme.example",
        rendered=rendered,
    )
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Message-ID"] == "<m-1@recouvra.local>"
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert "Nous vous demandons de payer" in text.get_content()
    assert f'src="cid:{QR_CONTENT_ID}"' in html.get_content()
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{QR_CONTENT_ID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_payload(decode=True).startswith(b"\x89PNG")


async def test_a_letter_is_a_pdf_and_a_manifest_line_found_by_message_id(tmp_path: Path) -> None:
    rendered = JinjaRenderer().render(facts("fr", Channel.LETTER))
    folder = LetterFolder(tmp_path / "letters")
    reference = await folder.send("m-1", "ACME SARL\n12 rue des Lilas\n69003 Lyon", rendered)
    assert reference == "manifest.jsonl:m-1"
    assert (tmp_path / "letters" / "m-1.pdf").read_bytes() == rendered.pdf
    assert await folder.copies("m-1") == 1
    assert await folder.copies("m-2") == 0
    assert await folder.copy_of("m-1") == rendered.pdf  # what is kept as evidence after a crash
    assert await folder.copy_of("m-2") is None


async def test_a_text_is_a_line_of_the_sink(tmp_path: Path) -> None:
    rendered = JinjaRenderer().render(facts("en", Channel.SMS))
    sink = SmsSink(tmp_path / "sms.jsonl")
    await sink.send("m-1", "+33612345678", rendered)
    assert await sink.copies("m-1") == 1
    assert await sink.copy_of("m-1") is None  # a text has no PDF to keep
    assert "is owed" in rendered.text
    assert len(rendered.text) < 320  # two SMS at most
