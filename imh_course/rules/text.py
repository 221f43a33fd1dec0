"""Which characters no text of the course accepts (pure, shared by the request guard and file parsers)."""

from __future__ import annotations

import re

#: C0 controls and DEL, except tab, line feed and carriage return (multi-line text keeps those)
FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: in a URL, a name or a one-line value not even tab or line breaks belong
FORBIDDEN_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")


def control_character_in(value: str, *, multiline: bool) -> bool:
    """Whether ``value`` holds a control character (NUL, ESC, BEL …) that no field accepts."""
    pattern = FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE
    return pattern.search(value) is not None
