"""Text rules shared by views, parsers and templates: forbidden characters, counts, titles (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: C0 controls and DEL, except tab, line feed and carriage return (multi-line text keeps those)
FORBIDDEN_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: in a URL, a name or a one-line value not even tab or line breaks belong
FORBIDDEN_IN_LINE = re.compile(r"[\x00-\x1f\x7f]")


def control_character_in(value: str, *, multiline: bool) -> bool:
    """Whether ``value`` holds a control character (NUL, ESC, BEL …) that no field accepts."""
    pattern = FORBIDDEN_IN_TEXT if multiline else FORBIDDEN_IN_LINE
    return pattern.search(value) is not None


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``count`` with the noun that agrees with it: "1 learner", "2 learners", "0 learners".

    Messages read as a person would write them, never "learner(s)"; irregular nouns pass their
    plural (``plural(n, "person", "people")``).
    """
    return f"{count} {noun_for(count, singular, plural_form)}"


def noun_for(count: int, singular: str, plural_form: str | None = None) -> str:
    """The noun alone, agreeing with ``count``: "column" / "columns" ("the email column")."""
    return singular if count == 1 else (plural_form or singular + "s")


def titled(title: str, suffix: str) -> str:
    """``title`` followed by ``": suffix"``, without a colon after a title's own ? or !.

    "Why Health?: attempt 1" reads as a typo; "Why Health? Attempt 1" does not.
    """
    title = title.rstrip()
    if title.endswith(("?", "!")):
        return f"{title} {suffix[:1].upper()}{suffix[1:]}"
    return f"{title}: {suffix}"


def joined(items: Iterable[str], last: str = "and") -> str:
    """A list as a sentence writes it: "a", "a and b", "a, b and c" (``last="or"`` for choices)."""
    words = [str(i) for i in items]
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} {last} {words[-1]}"
