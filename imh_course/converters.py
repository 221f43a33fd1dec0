"""URL converters: ids outside the database column range are an ordinary 404, not a 500."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

#: PostgreSQL INTEGER is signed 32-bit; every id and number column in models/ is INTEGER.
DB_INT_MAX = 2**31 - 1


class DbIntConverter(IntegerConverter):
    """Like ``int`` but only matches 0..2**31-1, so a huge id never reaches the database."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


def register(app) -> None:
    """Add ``dbint`` to the host's url_map without replacing the host's own ``int``."""
    app.url_map.converters.setdefault("dbint", DbIntConverter)
