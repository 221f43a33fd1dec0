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

from ..lti import views as lti_views  # noqa: E402,F401
from ..lti import views_admin as lti_views_admin  # noqa: E402,F401
from . import (  # noqa: E402,F401  (routes register on bp)
    account,
    admin,
    attendance,
    audit_trail,
    auth,
    authoring,
    certificates,
    checkin,
    completion,
    coordinator,
    credentials,
    exports,
    feedback,
    learner,
    learner_work,
    my_data,
    outbox,
    participant_reports,
    profile,
    public,
    quiz_authoring,
    staff,
)


def create_blueprint() -> Blueprint:
    return bp
