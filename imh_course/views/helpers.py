"""Small request-pipeline helpers shared by the view modules: load-or-404, safe redirects."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, request

from ..extensions import db

T = TypeVar("T")


def get_or_404(model: type[T], ident: Any) -> T:
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: no scheme, no host, no protocol-relative '//' tricks."""
    if not target:
        return False
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//")


#: a page number with more digits is not a page of any list here (and would overflow OFFSET)
MAX_PAGE_DIGITS = 6


def page_number() -> int | None:
    """The ``page`` query argument (1 when absent), or None when it is not a page number."""
    raw = request.args.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or len(raw) > MAX_PAGE_DIGITS or int(raw) < 1:
        return None
    return int(raw)


def client_ip() -> str | None:
    return request.remote_addr
