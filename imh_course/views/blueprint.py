"""The blueprint ``imh`` that every route module registers on.

Its own module, importing no route module, so route modules (and the LTI routes in ``lti/``)
take ``bp`` from here without an import cycle; ``views/routes.py`` imports them all.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "imh",
    __name__,
    template_folder="../templates",
    static_folder="../static/imh_course",
    static_url_path="/imh-static",
)
