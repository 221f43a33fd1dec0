"""URL converters: ids outside the database column range are an ordinary 404, not a 500."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.routing import IntegerConverter

#: PostgreSQL INTEGER is signed 32-bit; every id and number column in models/ is INTEGER.
DB_INT_MAX = 2**31 - 1
#: The deepest page a paginated list offers by query string; the SQL OFFSET stays small.
MAX_PAGE = 10**6


class DbIntConverter(IntegerConverter):
    """Like ``int`` but only matches 0..2**31-1, so a huge id never reaches the database."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def parse_db_int(text: object) -> int | None:
    """A posted or typed id (ASCII digits, surrounding spaces allowed) within INTEGER, else None.

    ``str.isdigit`` is not enough: ``"²".isdigit()`` is True but ``int("²")`` raises, and
    ``"9" * 20`` is digits past every integer column (a 500 on PostgreSQL and SQLite alike).
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not text or len(text) > len(str(DB_INT_MAX)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= DB_INT_MAX else None


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    """The ``?page=`` of a list, 1..MAX_PAGE (beyond is the last; ``x`` or ``-3`` is the first)."""
    raw = (args.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    if len(raw) > len(str(MAX_PAGE)):  # never int() a 5,000-digit string
        return MAX_PAGE
    return min(max(int(raw), 1), MAX_PAGE)


def register(app) -> None:
    """Add ``dbint`` to the host's url_map without replacing the host's own ``int``."""
    app.url_map.converters.setdefault("dbint", DbIntConverter)
