"""Which files the vault accepts, told from their first bytes rather than their names."""

from __future__ import annotations

import re

from vault.domain.errors import InvalidField

# Enough bytes to see past an XML declaration preceded by a byte-order mark and whitespace.
SNIFF_BYTES = 512

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_UTF8_BOM = b"\xef\xbb\xbf"
_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*)(?::[\w.-]+)?[\s>/]")
_ACTIVE_MARKUP = {b"html", b"svg", b"script", b"xhtml"}


def detect_content_type(head: bytes) -> str:
    """The media type of a document from its first bytes; InvalidField when not allowed."""
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    text = head.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    if text.startswith(b"<?xml"):
        return "application/xml"
    # XML without a declaration, but never markup a browser would run (HTML, SVG).
    root = _ROOT.match(text)
    if root and root.group(1).lower() not in _ACTIVE_MARKUP:
        return "application/xml"
    raise InvalidField("content", "only PDF, PNG, JPEG and XML documents are accepted")
