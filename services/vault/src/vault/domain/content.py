"""Which files the vault accepts, told from their first bytes rather than their names."""

from __future__ import annotations

import re
from typing import NoReturn
from xml.parsers import expat

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
_ACTIVE_ROOTS = {"html", "svg", "xhtml"}
# Markup a browser runs, wherever it appears in the document.
_ACTIVE_NAMESPACES = {"http://www.w3.org/1999/xhtml", "http://www.w3.org/2000/svg"}
_NS = "\x1f"
XML = "application/xml"


def detect_content_type(head: bytes) -> str:
    """The media type of a document from its first bytes; InvalidField when not allowed."""
    for signature, media_type in _SIGNATURES:
        if head.startswith(signature):
            return media_type
    text = head.removeprefix(_UTF8_BOM).lstrip(b" \t\r\n")
    if text.startswith(b"<?xml"):
        return XML
    # XML without a declaration, but never markup a browser would run (HTML, SVG).
    root = _ROOT.match(text)
    if root and root.group(1).lower() not in _ACTIVE_MARKUP:
        return XML
    raise InvalidField("content", "only PDF, PNG, JPEG and XML documents are accepted")


class XmlGuard:
    """Checks XML evidence as it streams in, so that only inert data is stored as XML.

    Refused: a root of html, xhtml or svg; any script element, or element in the XHTML or SVG
    namespace; processing instructions (the XML declaration is not one); a DTD, hence any
    entity declaration or external entity; and anything not well-formed. The standard parser
    (expat) reads the bytes incrementally; a DTD is refused as soon as it starts, before any
    entity could be declared or expanded.
    """

    def __init__(self) -> None:
        self._parser = expat.ParserCreate(namespace_separator=_NS)
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._doctype
        self._parser.EntityDeclHandler = self._entity
        self._parser.ExternalEntityRefHandler = self._external_entity
        self._parser.ProcessingInstructionHandler = self._instruction
        self._parser.StartElementHandler = self._element
        self._seen_root = False

    @staticmethod
    def _refuse(rule: str) -> NoReturn:
        raise InvalidField("content", f"XML {rule}")

    def _doctype(self, *_: object) -> None:
        self._refuse("with a DTD (document type declaration) is not accepted")

    def _entity(self, *_: object) -> None:
        self._refuse("entity declarations are not accepted")

    def _external_entity(self, *_: object) -> int:
        self._refuse("external entities are not accepted")

    def _instruction(self, target: str, _data: str) -> None:
        self._refuse(f"processing instructions are not accepted (found <?{target}>)")

    def _element(self, name: str, attributes: object) -> None:
        namespace, _, local = name.rpartition(_NS)
        local = local.lower()
        if not self._seen_root:
            self._seen_root = True
            if local in _ACTIVE_ROOTS:
                self._refuse(f"whose root is <{local}> is not accepted (HTML or SVG)")
        if local == "script" or namespace in _ACTIVE_NAMESPACES:
            self._refuse(f"with <{local}> (script, HTML or SVG markup) is not accepted")

    def feed(self, piece: bytes) -> None:
        """Check the next bytes of the document."""
        self._parse(piece, final=False)

    def close(self) -> None:
        """Check that the document ended well-formed."""
        self._parse(b"", final=True)

    def _parse(self, data: bytes, *, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            self._refuse(f"is not well-formed: {expat.errors.messages[exc.code]}")
