"""The module's blueprint; each audience has its own view module."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "imh",
    __name__,
    template_folder="../templates",
    static_folder="../static/imh_course",
    static_url_path="/imh-static",
)

from . import attendance, auth, authoring, certificates, learner, public, staff  # noqa: E402,F401


def create_blueprint() -> Blueprint:
    return bp
