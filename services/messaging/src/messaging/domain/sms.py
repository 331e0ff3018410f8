"""What an SMS costs: its text in the GSM 03.38 alphabet and the number of parts it is sent in.

An SMS is 160 characters of the GSM 7-bit alphabet, or 70 once a single character outside it
appears (the whole text is then sent as UCS-2); a longer text goes in parts of 153 (GSM-7) or 67
(UCS-2) characters, each billed as one SMS. French money is written with a narrow no-break space
(`1 543,30 EUR`) and quotes may be curly: either alone would turn a two-part text into five.
`gsm7` writes a text with GSM-7 characters only, so that never happens.
"""

from __future__ import annotations

import unicodedata

# GSM 03.38 basic character set (the escape character aside).
_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Its extension table: each costs two characters (the escape and itself).
_EXTENDED = set("^{}\\[~]|€\f")
_REPLACED = {
    "\u202f": " ",  # narrow no-break space (French thousands)
    "\u00a0": " ",  # no-break space (before French ':' and ';')
    "\u2019": "'",
    "\u2018": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2026": "...",
    "œ": "oe",
    "Œ": "OE",
    "ç": "c",
}
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


def gsm7(text: str) -> str:
    """`text` in GSM-7 characters: French accents GSM-7 lacks (ê, â, î, ô, û, ë, ï) lose their
    accent, typographic spaces, quotes and dashes become plain ones, anything else `?`."""
    written = []
    for char in text:
        if char in _BASIC or char in _EXTENDED:
            written.append(char)
        elif char in _REPLACED:
            written.append(_REPLACED[char])
        else:
            bare = "".join(
                c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c)
            )
            written.append(bare if bare and all(c in _BASIC for c in bare) else "?")
    return "".join(written)


def sms_parts(text: str) -> int:
    """How many SMS `text` is sent (and billed) as."""
    if all(c in _BASIC or c in _EXTENDED for c in text):
        length = sum(2 if c in _EXTENDED else 1 for c in text)
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        length = len(text.encode("utf-16-le")) // 2
        single, part = UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1
    return -(-length // part)
