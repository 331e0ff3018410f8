"""The creditor and the holder see a message as it would go, nothing is sent; anyone else sees no
case, and a bad request names each bad field."""

from __future__ import annotations

import pytest

from messaging.adapters.rendering import JinjaRenderer
from messaging.domain.preview import PreviewRequest
from messaging.service_layer.compose import FactSources, PortalLinks
from messaging.service_layer.preview import preview
from recouvra_shared.errors import InvalidRequest, NotFound

from .channel_fakes import CASE_ID, NOW, FakeFacts


async def shown(request: PreviewRequest, kind: str, tenant: str):  # type: ignore[no-untyped-def]
    facts = FakeFacts()
    return await preview(
        request,
        kind,
        tenant,
        sources=FactSources(cases=facts, parties=facts, payments=facts),
        portal=PortalLinks(base_url="https://portal.example", secret=b"k" * 32),
        renderer=JinjaRenderer(),
        now=lambda: NOW,
    )


@pytest.mark.parametrize(
    ("kind", "tenant"), [("creditor", "creditor-1"), ("provider", "provider-1")]
)
async def test_the_creditor_and_the_holder_see_the_first_letter(kind: str, tenant: str) -> None:
    result = await shown(PreviewRequest(case_id=CASE_ID), kind, tenant)
    assert result.missing_mentions == ()
    assert "exerce une activité de recouvrement amiable" in result.rendered.text
    assert result.rendered.html.lstrip().lower().startswith("<!doctype html")


async def test_a_letter_preview_is_the_pdf_that_would_be_posted() -> None:
    result = await shown(
        PreviewRequest(case_id=CASE_ID, channel="letter"), "creditor", "creditor-1"
    )
    assert result.rendered.pdf.startswith(b"%PDF")


@pytest.mark.parametrize(
    ("kind", "tenant"),
    [("creditor", "creditor-2"), ("provider", "provider-2"), ("debtor", CASE_ID), ("service", "")],
)
async def test_anyone_else_sees_no_such_case(kind: str, tenant: str) -> None:
    with pytest.raises(NotFound):
        await shown(PreviewRequest(case_id=CASE_ID), kind, tenant)


async def test_a_bad_request_names_every_bad_field() -> None:
    request = PreviewRequest(
        case_id=CASE_ID, round=4, step=2, channel="fax", template="threat", language="de"
    )
    with pytest.raises(InvalidRequest) as refused:
        await shown(request, "creditor", "creditor-1")
    assert {v.field for v in refused.value.violations} == {
        "round",
        "channel",
        "template",
        "language",
        "first_sent_on",
    }
