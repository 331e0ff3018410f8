"""Rules for free text that every door into the platform applies the same way."""

import unicodedata

CONTROL_CHARACTERS_RULE = "must not contain control characters"

# Tab, line feed and carriage return are text; every other control character is not.
_TEXT_CONTROLS = frozenset("\t\n\r")


def has_control_characters(value: str) -> bool:
    """True for NUL and the other C0/C1 controls, which PostgreSQL or a reader cannot take."""
    return any(unicodedata.category(c) == "Cc" and c not in _TEXT_CONTROLS for c in value)
