"""Content types from bytes, and who may read which document."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from vault.domain.content import XmlGuard, detect_content_type
from vault.domain.crypto import WrappedKey
from vault.domain.errors import InvalidField
from vault.domain.model import Actor, Document, DocumentKind, check_id, may_read, may_shred


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n...", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n....", "image/png"),
        (b"\xff\xd8\xff\xe0..JFIF", "image/jpeg"),
        (b'\xef\xbb\xbf<?xml version="1.0"?><Invoice/>', "application/xml"),
        (b"\n  <rsm:CrossIndustryInvoice xmlns:rsm='urn:x'>", "application/xml"),
    ],
)
def test_allowed_types_are_told_from_their_bytes(head: bytes, expected: str) -> None:
    assert detect_content_type(head) == expected


@pytest.mark.parametrize(
    "head", [b"", b"MZ\x90\x00 windows exe", b"<html><script>", b"<svg onload=x>", b"plain text"]
)
def test_other_types_are_refused_naming_the_field(head: bytes) -> None:
    with pytest.raises(InvalidField, match=r"^content: only PDF, PNG, JPEG and XML"):
        detect_content_type(head)


FACTUR_X = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:'
    b'CrossIndustryInvoice:100"><rsm:ExchangedDocument><ram:ID xmlns:ram="urn:x">F-42</ram:ID>'
    b"</rsm:ExchangedDocument></rsm:CrossIndustryInvoice>"
)


def guarded(document: bytes, piece_size: int = 7) -> None:
    guard = XmlGuard()
    for start in range(0, len(document), piece_size):
        guard.feed(document[start : start + piece_size])
    guard.close()


def test_point_14_inert_xml_evidence_passes_the_guard() -> None:
    guarded(FACTUR_X)
    guarded(b"\xef\xbb\xbf<?xml version='1.0'?><Invoice><Note>&lt;script&gt;</Note></Invoice>")


@pytest.mark.parametrize(
    ("document", "rule"),
    [
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="x()"/>', "root"),
        (b'<?xml version="1.0"?><html><body>hi</body></html>', "root"),
        (b'<?xml version="1.0"?><xhtml/>', "root"),
        (b'<?xml version="1.0"?><Invoice><script>fetch("/x")</script></Invoice>', "script"),
        (
            b'<?xml version="1.0"?><Invoice><h:p xmlns:h="http://www.w3.org/1999/xhtml"/>'
            b"</Invoice>",
            "<p>",
        ),
        (
            b'<?xml version="1.0"?><Invoice><g xmlns="http://www.w3.org/2000/svg"/></Invoice>',
            "<g>",
        ),
        (
            b'<?xml version="1.0"?><?xml-stylesheet href="evil.xsl"?><Invoice/>',
            "processing instructions",
        ),
        (b'<?xml version="1.0"?><Invoice><?php echo 1; ?></Invoice>', "processing instructions"),
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<d>&b;</d>",
            "DTD",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd"><d/>',
            "DTD",
        ),
        (b'<?xml version="1.0"?><Invoice><open></Invoice>', "not well-formed"),
        (b'<?xml version="1.0"?><Invoice>', "not well-formed"),
    ],
)
def test_point_14_active_or_dangerous_xml_is_refused(document: bytes, rule: str) -> None:
    with pytest.raises(InvalidField, match=r"^content: XML .*" + re.escape(rule)):
        guarded(document)


def test_identifiers_are_checked() -> None:
    assert check_id("case_id", "case-42") == "case-42"
    for bad in ["", "../etc", "a" * 65, "case 1"]:
        with pytest.raises(InvalidField, match=r"^case_id: "):
            check_id("case_id", bad)


DOC = Document(
    document_id="d-1",
    tenant_id="creditor-1",
    case_id="case-1",
    kind=DocumentKind.INVOICE,
    content_type="application/pdf",
    size_bytes=10,
    sha256=b"",
    version=1,
    shareable=False,
    filename="f.pdf",
    object_name="x",
    wrapped_key=WrappedKey("k", b""),
    created_at=datetime.now(UTC),
)


def test_the_owner_creditor_reads_and_shreds_others_do_not() -> None:
    owner, other = Actor("creditor", "u", "creditor-1"), Actor("creditor", "u", "creditor-2")
    assert may_read(owner, DOC, False)
    assert may_shred(owner, DOC)
    assert not may_read(other, DOC, False)
    assert not may_shred(other, DOC)


def test_a_service_reads_for_its_work_but_never_shreds_evidence() -> None:
    messaging = Actor("service", "messaging", "")
    assert may_read(messaging, DOC, False)
    assert not may_shred(messaging, DOC)
    assert not may_shred(Actor("service", "matching", "creditor-1"), DOC)


def test_a_provider_reads_only_with_a_grant_and_never_shreds() -> None:
    provider = Actor("provider", "p", "provider-1")
    assert may_read(provider, DOC, True)
    assert not may_read(provider, DOC, False)
    assert not may_shred(provider, DOC)


def test_the_debtor_portal_reads_only_shareable_documents_of_its_case() -> None:
    debtor = Actor("debtor", "case-1", "creditor-1")
    assert not may_read(debtor, DOC, False)
    from dataclasses import replace

    shareable = replace(DOC, shareable=True)
    assert may_read(debtor, shareable, False)
    assert not may_read(Actor("debtor", "case-2", "creditor-1"), shareable, False)
