"""Rules for free text that every door into the platform applies the same way."""

import re

CONTROL_CHARACTERS_RULE = "must not contain control characters"

# Unicode's control characters (category Cc: U+0000-U+001F, U+007F-U+009F) but tab, line feed
# and carriage return, which are text. One regular expression: every imported row's every cell
# goes through it, and a search in C is far cheaper than a category lookup per character.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def has_control_characters(value: str) -> bool:
    """True for NUL and the other C0/C1 controls, which PostgreSQL or a reader cannot take."""
    return _CONTROLS.search(value) is not None
