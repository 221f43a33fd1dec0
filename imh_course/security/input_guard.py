"""Control characters stop at the edge: a request carrying one is refused before any view runs.

PostgreSQL cannot store NUL in text (a 500 when it reached an INSERT) and SQLite stored it, so
it travelled on into CSV exports. No field of this module has a use for C0 control characters
or DEL, so every form value, query parameter and path of the module's routes is checked once,
here, rather than field by field; tab, line feed and carriage return stay allowed in form values
(multi-line text). Uploaded files are checked by their parsers (see ``operations/roster_csv``).
"""

from __future__ import annotations

from flask import Flask, abort, request

from ..rules.text import control_character_in

MESSAGE = (
    "Part of what you sent contains a control character (for example a NUL byte) that cannot be "
    "stored. Nothing was saved. Please remove it (retyping the text usually does) and try again."
)


def offending_request() -> bool:
    """Whether the current request carries a control character in its path, query or form."""
    if control_character_in(request.path, multiline=False):
        return True
    for key, value in request.args.items(multi=True):
        if control_character_in(key, multiline=False) or control_character_in(value, multiline=False):
            return True
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        for key, value in request.form.items(multi=True):
            if control_character_in(key, multiline=False) or control_character_in(value, multiline=True):
                return True
        for key, upload in request.files.items(multi=True):
            if control_character_in(key, multiline=False) or control_character_in(
                upload.filename or "", multiline=False
            ):
                return True
    return False


def register(app: Flask) -> None:
    """Refuse such requests to the module's routes with a 400 that says why (the host's are left alone)."""

    @app.before_request
    def _refuse_control_characters() -> None:
        if (request.blueprint or "").split(".")[0] != "imh":
            return
        if offending_request():
            abort(400, description=MESSAGE)
