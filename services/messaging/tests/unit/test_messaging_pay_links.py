"""Pay by link in letters and e-mails: the whole amount's payment link, and its QR code beside
the EPC QR, in each language; the link asked of settlement for the amount the message demands
(so a changed amount gets a new link); a provider that does not answer never holds a message."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from messaging.adapters.rendering import LINK_QR_CONTENT_ID, QR_CONTENT_ID, JinjaRenderer
from messaging.domain.content import ClaimAmounts, PayLink
from messaging.domain.outgoing import Channel
from messaging.service_layer.compose import FactSources, PortalLinks, compose
from recouvra_shared.errors import Unavailable

from .channel_fakes import CASE, CASE_ID, NOW, FakeFacts
from .test_messaging_content import facts, message

URL = "https://pay.bridgeapi.io/link/8f2a6c"
LINK = PayLink(url=URL, amount_minor=154_330, expires_on=date(2027, 1, 2))
PORTAL = PortalLinks(base_url="https://portal.example", secret=b"s" * 32)


def decoded(png: bytes) -> str:
    (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return code.text


@dataclass
class FakeLinks:
    asked: list[tuple[str, int, str]] = field(default_factory=list)
    down: bool = False

    async def whole_amount_link(self, case_id: str, amount_minor: int, currency: str) -> PayLink:
        if self.down:
            raise Unavailable("the payment-initiation provider did not answer")
        self.asked.append((case_id, amount_minor, currency))
        return replace(LINK, amount_minor=amount_minor)


@pytest.mark.parametrize(
    ("language", "words"), [("fr", "valable jusqu'au 02/01/2027"), ("en", "valid until 2027-01-02")]
)
def test_an_email_carries_the_link_and_its_qr_beside_the_epc_qr(language: str, words: str) -> None:
    rendered = JinjaRenderer().render(replace(facts(language), pay_link=LINK))
    assert URL in rendered.text
    assert words in rendered.text
    assert f'href="{URL}"' in rendered.html
    assert decoded(rendered.inline_images[LINK_QR_CONTENT_ID]) == URL
    assert decoded(rendered.inline_images[QR_CONTENT_ID]).startswith("BCD\n")  # the EPC QR
    assert f"cid:{LINK_QR_CONTENT_ID}" in rendered.html


def test_a_letter_prints_the_link_and_both_qr_codes() -> None:
    rendered = JinjaRenderer().render(replace(facts("fr", Channel.LETTER), pay_link=LINK))
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(rendered.pdf)).pages)
    assert URL in "".join(text.split())  # a long URL may wrap across lines in the PDF
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', rendered.html)
    assert len(images) == 2
    assert [decoded(base64.b64decode(i)) for i in images][1] == URL


def test_without_a_link_nothing_about_it_is_shown() -> None:
    rendered = JinjaRenderer().render(facts("en"))
    assert LINK_QR_CONTENT_ID not in rendered.inline_images
    assert "Pay in moments" not in rendered.text
    assert QR_CONTENT_ID in rendered.inline_images


async def test_compose_asks_settlement_for_the_whole_amount_demanded() -> None:
    links = FakeLinks()
    source = FakeFacts()
    sources = FactSources(cases=source, parties=source, payments=source, links=links)
    composed = await compose(message("fr"), sources, PORTAL, lambda: NOW)
    assert links.asked == [(CASE_ID, CASE.amounts.total_minor, "EUR")]
    assert composed.pay_link is not None
    assert composed.pay_link.amount_minor == composed.amounts.total_minor
    # The amount changed (interest ran, a part was paid): the link is asked for the new amount,
    # which settlement answers with a new link (the old one revoked).
    lower = replace(CASE, amounts=replace(CASE.amounts, principal_minor=100_000))
    source.case_facts = lower
    await compose(message("fr"), sources, PORTAL, lambda: NOW)
    assert links.asked[-1][1] == lower.amounts.total_minor != CASE.amounts.total_minor


async def test_a_provider_that_does_not_answer_never_holds_the_message() -> None:
    source = FakeFacts()
    sources = FactSources(cases=source, parties=source, payments=source, links=FakeLinks(down=True))
    composed = await compose(message("en"), sources, PORTAL, lambda: NOW)
    assert composed.pay_link is None
    assert "IBAN" in JinjaRenderer().render(composed).text


async def test_no_link_is_asked_for_an_amount_not_in_euros() -> None:
    links = FakeLinks()
    source = FakeFacts(replace(CASE, amounts=ClaimAmounts("CHF", 10_000, 0, 0, NOW.date())))
    sources = FactSources(cases=source, parties=source, payments=source, links=links)
    composed = await compose(message("en"), sources, PORTAL, lambda: NOW)
    assert (composed.pay_link, links.asked) == (None, [])


async def test_settlement_unreachable_is_no_link_not_a_failed_message() -> None:
    from grpc import StatusCode
    from grpc.aio import AioRpcError, Metadata

    from messaging.adapters.payment_links_client import SettlementPaymentLinks

    class Unreachable:
        async def CreatePaymentLink(self, request: object, **options: object) -> object:
            raise AioRpcError(StatusCode.UNIMPLEMENTED, Metadata(), Metadata(), "no such service")

    client = SettlementPaymentLinks.__new__(SettlementPaymentLinks)
    client.stub = Unreachable()  # type: ignore[assignment]
    with pytest.raises(Unavailable, match="UNIMPLEMENTED"):
        await client.whole_amount_link(CASE_ID, 100, "EUR")
