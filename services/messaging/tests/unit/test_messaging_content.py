"""What the debtor reads: every R124-4 mention in each holder's first message, amounts itemised
without collection costs, later messages citing the first, templates that cannot escape."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from jinja2.exceptions import SecurityError

from messaging.adapters.rendering import JinjaRenderer
from messaging.domain.content import (
    L111_8_PARAGRAPHS,
    Mention,
    MessageFacts,
    absent_mentions,
    expected_mentions,
    message_reference,
    require_lawful,
)
from messaging.domain.outgoing import Channel, MessageToSend, Tone
from messaging.service_layer.dispatch import visible_text
from recouvra_shared.errors import InvalidRequest

from .channel_fakes import CASE, CASE_ID, CREDITOR, DEBTOR, HOLDER, NOW, PAYMENT


def message(language: str = "fr", channel: Channel = Channel.EMAIL, step: int = 1) -> MessageToSend:
    return MessageToSend(
        message_id="5b0e8f7c-3a57-4d59-9f7b-8f1d3c2b1a00",
        case_id=CASE_ID,
        creditor_id="creditor-1",
        holder_id="provider-1",
        round=1,
        step=step,
        channel=channel,
        template="first_letter" if step == 1 else "reminder",
        tone=Tone.REMINDER,
        language=language,
        first_sent_on=NOW if step > 1 else None,
    )


def facts(language: str = "fr", channel: Channel = Channel.EMAIL, step: int = 1) -> MessageFacts:
    return MessageFacts(
        message=message(language, channel, step),
        reference=message_reference(CASE_ID, 1, step),
        sent_on=NOW.date(),
        debtor=DEBTOR,
        holder=HOLDER,
        creditor=CREDITOR,
        invoices=CASE.invoices,
        amounts=CASE.amounts,
        payment=PAYMENT,
        portal_url="https://portal.example/portal/token",
        first_reference=message_reference(CASE_ID, 1, 1) if step > 1 else "",
        first_sent_on=NOW.date() if step > 1 else None,
    )


# What each R124-4 mention must show in the text, stated independently of the code that checks
# it: a mention added to `Mention` without a line here fails the first test.
REQUIRED = {
    Mention.COLLECTOR_IDENTITY: ["Cabinet Durand Recouvrement", "4 place Bellecour", "69002 Lyon"],
    Mention.AMICABLE_ACTIVITY: ["recouvrement amiable"],
    Mention.CREDITOR_IDENTITY: ["Boulangerie Martin SAS", "8 avenue Foch", "75016 Paris"],
    Mention.CLAIM_BASIS: ["F-2026-0042", "F-2026-0057"],
    Mention.AMOUNT_ITEMISED: [
        "principal : 1\u202f434,56 EUR",
        "intérêts de retard : 28,74 EUR",
        "autres sommes",
        "80,00 EUR",
        "total : 1\u202f543,30 EUR",
    ],
    Mention.DEMAND_TO_PAY: ["Nous vous demandons de payer la somme de 1\u202f543,30 EUR"],
    Mention.PAYMENT_TERMS: ["FR76 3000 6000 0112 3456 7890 189", "RF18 5390 0754 7034"],
    Mention.L111_8_TEXT: [
        "Les frais de recouvrement entrepris sans titre exécutoire restent à la charge du "
        "créancier",
        "caractère dolosif de l'inexécution",
    ],
}


def test_every_r124_4_mention_is_listed_and_checked() -> None:
    assert set(REQUIRED) == set(Mention)
    assert set(expected_mentions(facts())) == set(Mention)


@pytest.mark.parametrize("channel", [Channel.EMAIL, Channel.LETTER])
def test_the_first_french_message_carries_every_r124_4_mention(channel: Channel) -> None:
    rendered = JinjaRenderer().render(facts("fr", channel))
    for part in (rendered.text, visible_text(rendered.html)):
        flat = re.sub(r"[ \t\r\n]+", " ", part)
        missing = [(m, s) for m, snippets in REQUIRED.items() for s in snippets if s not in flat]
        assert missing == []
        assert absent_mentions(part, facts("fr", channel)) == []


def test_the_first_english_message_carries_every_mention_and_quotes_the_french_law() -> None:
    f = facts("en")
    rendered = JinjaRenderer().render(f)
    assert absent_mentions(rendered.text, f) == []
    assert absent_mentions(visible_text(rendered.html), f) == []
    assert "carries on amicable debt collection" in rendered.text
    assert "principal: 1,434.56 EUR" in rendered.text


def test_a_template_that_drops_a_mention_is_caught() -> None:
    f = facts("fr")
    stripped = JinjaRenderer().render(f).text
    for paragraph in L111_8_PARAGRAPHS:
        stripped = stripped.replace(paragraph, "")
    assert absent_mentions(stripped, f) == [Mention.L111_8_TEXT]
    without_iban = JinjaRenderer().render(f).text.replace(PAYMENT.iban_formatted, "")
    assert absent_mentions(without_iban, f) == [Mention.PAYMENT_TERMS]


def test_amounts_are_itemised_and_exclude_collection_costs() -> None:
    text = JinjaRenderer().render(facts("fr")).text
    lines = [line for line in text.splitlines() if line.startswith("- ")]
    assert "- principal : 1\u202f434,56 EUR" in lines
    assert "- intérêts de retard : 28,74 EUR" in lines
    assert any(
        line.startswith("- autres sommes") and line.endswith(": 80,00 EUR") for line in lines
    )
    assert "- total : 1\u202f543,30 EUR" in lines
    assert "restent à la charge du créancier" in text
    assert "honoraires" not in text
    assert "commission" not in text


def test_a_later_message_repeats_the_first_letters_reference_and_date() -> None:
    text = JinjaRenderer().render(facts("fr", step=2)).text
    assert f"(référence {message_reference(CASE_ID, 1, 1)})" in text
    assert "Rappel de notre courrier du 03/12/2026" in text
    assert L111_8_PARAGRAPHS[0] not in text  # reproduced in the first letter, not each time


def test_a_later_message_without_the_first_letters_date_is_refused() -> None:
    f = replace(facts("fr", step=2), first_sent_on=None)
    with pytest.raises(InvalidRequest) as refused:
        require_lawful(f)
    assert [v.field for v in refused.value.violations] == ["first_sent_on"]


def test_a_first_letter_without_the_collectors_address_is_refused_naming_the_field() -> None:
    f = replace(facts(), holder=replace(HOLDER, address_lines=(), city="", postal_code=""))
    with pytest.raises(InvalidRequest) as refused:
        require_lawful(f)
    assert [v.field for v in refused.value.violations] == ["holder.address"]


@pytest.mark.parametrize(
    "source",
    [
        "{{ f.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ f.message.__init__.__globals__ }}",
        "{{ money.__globals__ }}",
        "{% set xs = [] %}{{ xs.append(1) }}",
        "{{ f.invoices.__getitem__.__self__ }}",
    ],
)
def test_the_sandbox_refuses_attribute_tricks(source: str) -> None:
    renderer = JinjaRenderer(overrides={"fr/message.txt.j2": source})
    with pytest.raises(SecurityError):
        renderer.render(facts("fr"))


def test_html_escapes_what_the_debtor_or_creditor_typed() -> None:
    hostile = replace(CREDITOR, name="<script>alert(1)</script> SAS")
    f = replace(facts("fr"), creditor=hostile)
    html = JinjaRenderer().render(f).html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
