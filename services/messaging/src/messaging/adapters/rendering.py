"""Renders messages: Jinja2 in an immutable sandbox, e-mail HTML from MJML, letters by WeasyPrint.

The wording lives once per language in `templates/<lang>/message.txt.j2` (the plain-text part and
the paragraphs of the HTML and PDF forms); `email.mjml.j2` and `letter.html.j2` lay it out. A
template given by a creditor or a provider (`overrides`) runs in the same sandbox: it sees only
the message's facts and a few helpers, cannot reach attributes such as `__class__`, and cannot
change what it is given.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

import segno
from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from mjml import mjml_to_html

from messaging.domain.content import L111_8_PARAGRAPHS, MessageFacts, Party, format_money
from messaging.domain.outgoing import Channel
from messaging.domain.sms import gsm7
from messaging.service_layer.channels import Rendered

TEMPLATES = Path(__file__).parent / "templates"
QR_CONTENT_ID = "epc-qr"
LINK_QR_CONTENT_ID = "pay-link-qr"
PAY_LINK_LABELS = {
    "fr": "Payer par virement depuis ma banque",
    "en": "Pay by bank transfer from my bank",
}
PORTAL_LABELS = {
    "fr": "Payer, contester ou proposer un échéancier",
    "en": "Pay, dispute or propose a plan",
}


def qr_png(payload: str) -> bytes:
    """A QR code as a PNG, error correction M (as EPC069-12 requires for the EPC QR; the payment
    link's QR uses the same)."""
    out = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(out, kind="png", scale=5, border=4)
    return out.getvalue()


def _environment(autoescape: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def _paragraphs(text: str) -> list[list[str]]:
    blocks = [block.strip("\n") for block in text.split("\n\n")]
    return [block.splitlines() for block in blocks if block.strip()]


class JinjaRenderer:
    """The `Renderer`: the facts through the templates of the message's language."""

    def __init__(self, overrides: Mapping[str, str] | None = None) -> None:
        self.text = _environment(autoescape=False)
        self.markup = _environment(autoescape=True)
        self.overrides = dict(overrides or {})

    def _context(self, facts: MessageFacts) -> dict[str, Any]:
        lang = facts.message.language if facts.message.language in ("fr", "en") else "en"
        currency = facts.amounts.currency

        def money(minor: int) -> str:
            return format_money(minor, currency, lang)

        def day(value: date | None) -> str:
            if value is None:
                return ""
            return value.strftime("%d/%m/%Y") if lang == "fr" else value.isoformat()

        def address(party: Party) -> str:
            return ", ".join([*party.address_lines, f"{party.postal_code} {party.city}".strip()])

        helpers: dict[str, Callable[..., str]] = {"money": money, "day": day, "address": address}
        return {"f": facts, "lang": lang, "L111_8": L111_8_PARAGRAPHS, **helpers}

    def _text(self, name: str, context: dict[str, Any]) -> str:
        source = self.overrides.get(name)
        template = (
            self.text.from_string(source) if source is not None else self.text.get_template(name)
        )
        return template.render(context)

    def render(self, facts: MessageFacts) -> Rendered:
        """The message in its channel's form."""
        context = self._context(facts)
        lang = context["lang"]
        subject = " ".join(self._text(f"{lang}/subject.txt.j2", context).split())
        text = self._text(f"{lang}/message.txt.j2", context)
        qr = qr_png(facts.payment.epc_qr_payload) if facts.payment.epc_qr_payload else b""
        link_qr = qr_png(facts.pay_link.url) if facts.pay_link else b""
        layout = {
            **context,
            "subject": subject,
            "blocks": _paragraphs(text),
            "portal_label": PORTAL_LABELS[lang],
            "pay_link_label": PAY_LINK_LABELS[lang],
        }
        channel = facts.message.channel
        if channel is Channel.EMAIL:
            layout["qr_src"] = f"cid:{QR_CONTENT_ID}" if qr else ""
            layout["link_qr_src"] = f"cid:{LINK_QR_CONTENT_ID}" if link_qr else ""
            mjml = self.markup.get_template("email.mjml.j2").render(layout)
            result = mjml_to_html(io.StringIO(mjml))
            if result.errors:
                raise ValueError(f"MJML refused the e-mail layout: {result.errors}")
            images = {QR_CONTENT_ID: qr} if qr else {}
            if link_qr:
                images[LINK_QR_CONTENT_ID] = link_qr
            return Rendered(subject=subject, text=text, html=result.html, inline_images=images)
        if channel is Channel.LETTER:
            layout["qr_src"] = _data_uri(qr)
            layout["link_qr_src"] = _data_uri(link_qr)
            html = self.markup.get_template("letter.html.j2").render(layout)
            return Rendered(subject=subject, text=text, html=html, pdf=pdf_of(html))
        return Rendered(subject=subject, text=_sms(facts, money=context["money"]))


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode() if png else ""


def pdf_of(html: str) -> bytes:
    """The letter as a PDF, by WeasyPrint (imported here: it loads pango when first used)."""
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def _sms(facts: MessageFacts, *, money: Callable[[int], str]) -> str:
    """The text: who asks, for whom, how much, the payment link first (one tap to the debtor's
    bank) when there is one, then the portal (pay otherwise, dispute, ask for a plan); written
    in GSM-7 so each part holds 153 characters, not 67."""
    total = money(facts.amounts.total_minor)
    link = facts.pay_link.url if facts.pay_link else ""
    if facts.message.language == "fr":
        text = (
            f"{facts.holder.name} pour {facts.creditor.name} : {total} restent dus "
            f"(réf. {facts.reference}). "
            + (
                f"Payer depuis votre banque : {link} Contester, échéancier : "
                if link
                else "Payer ou répondre : "
            )
            + facts.portal_url
        )
    else:
        text = (
            f"{facts.holder.name} for {facts.creditor.name}: {total} is owed "
            f"(ref. {facts.reference}). "
            + (f"Pay from your bank: {link} Dispute, plan: " if link else "Pay or reply: ")
            + facts.portal_url
        )
    return gsm7(text)
