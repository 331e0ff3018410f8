"""An SMS demanding payment: the payment link first, then the portal; written in the GSM-7
alphabet so French money does not turn it into UCS-2 (67 characters a part instead of 153); the
number of parts it is billed as is what its length says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from messaging.adapters.print_and_post import SmsSink
from messaging.adapters.rendering import JinjaRenderer
from messaging.domain.content import PayLink
from messaging.domain.outgoing import Channel
from messaging.domain.portal_links import portal_url
from messaging.domain.sms import gsm7, sms_parts
from messaging.service_layer.compose import FactSources, compose

from .channel_fakes import CASE_ID, NOW, FakeFacts
from .test_messaging_content import facts, message
from .test_messaging_pay_links import PORTAL, FakeLinks

# The sandbox's link (Bridge's has the same shape on its own host) and a real portal link.
LINK_URL = "http://127.0.0.1:18580/link/0b7c1f2a-0000-4000-8000-00000000000a"
PORTAL_URL = portal_url("https://recouvra.fr", CASE_ID, NOW, timedelta(days=60), b"s" * 32)
LINK = PayLink(url=LINK_URL, amount_minor=154_330, expires_on=date(2027, 1, 2))


def text(language: str, link: PayLink | None = LINK) -> str:
    sms = replace(facts(language, Channel.SMS), portal_url=PORTAL_URL, pay_link=link)
    return JinjaRenderer().render(sms).text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_sms_carries_the_payment_link_before_the_portal_in_three_parts_at_most(
    language: str,
) -> None:
    sms = text(language)
    assert LINK_URL in sms
    assert PORTAL_URL in sms
    assert sms.index(LINK_URL) < sms.index(PORTAL_URL)
    assert gsm7(sms) == sms  # nothing outside GSM-7
    # 350 characters in French, 327 in English with these links (64 and 121 characters).
    assert len(sms) <= 3 * 153
    assert sms_parts(sms) == 3


def test_french_money_is_written_with_a_plain_space() -> None:
    sms = text("fr")
    assert "1 543,30 EUR restent dus" in sms
    assert "\u202f" not in sms
    # The same text with French typography would go as UCS-2: 67 characters a part, six parts.
    assert sms_parts(sms.replace("1 543,30", "1\u202f543,30")) == 6


def test_without_a_link_the_sms_sends_to_the_portal_as_before() -> None:
    sms = text("fr", link=None)
    assert "Payer ou répondre : " + PORTAL_URL in sms
    assert "banque" not in sms
    assert sms_parts(sms) == 2


async def test_a_composed_sms_asks_settlement_for_the_whole_amounts_link() -> None:
    links = FakeLinks()
    source = FakeFacts()
    sources = FactSources(cases=source, parties=source, payments=source, links=links)
    composed = await compose(message("fr", Channel.SMS), sources, PORTAL, lambda: NOW)
    sms = JinjaRenderer().render(composed).text
    assert links.asked == [(CASE_ID, composed.amounts.total_minor, "EUR")]
    assert composed.pay_link is not None
    assert composed.pay_link.url in sms


async def test_the_sink_line_carries_the_link_and_the_parts_billed(tmp_path: Path) -> None:
    rendered = JinjaRenderer().render(
        replace(facts("fr", Channel.SMS), portal_url=PORTAL_URL, pay_link=LINK)
    )
    sink = SmsSink(tmp_path / "sms.jsonl")
    await sink.send("m-1", "+33612345678", rendered)
    (line,) = [json.loads(raw) for raw in (tmp_path / "sms.jsonl").read_text().splitlines()]
    assert LINK_URL in line["text"]
    assert line["parts"] == 3


@pytest.mark.parametrize(
    ("written", "parts"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # each € takes two of the 160 (escape and itself)
        ("€" * 81, 2),
        ("ê" * 70, 1),  # outside GSM-7: UCS-2
        ("ê" * 71, 2),
        ("ê" * 135, 3),
    ],
)
def test_parts_are_counted_as_an_sms_gateway_bills_them(written: str, parts: int) -> None:
    assert sms_parts(written) == parts


def test_gsm7_keeps_what_it_has_and_strips_what_it_lacks() -> None:
    assert gsm7("réf. à payer, échéancier, où") == "réf. à payer, échéancier, où"
    assert gsm7("fenêtre, maîtrise, cœur, ça\u00a0: «\u202f1\u202f000\u202f»") == (
        'fenetre, maitrise, coeur, ca : " 1 000 "'
    )
    assert gsm7("€ [x]") == "€ [x]"
    assert gsm7("日") == "?"
