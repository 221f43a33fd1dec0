"""Every route module, imported once so its routes register on ``bp``; imported by the wiring only.

The route modules import ``bp`` from ``views/blueprint.py`` and helpers from the small modules
beside it, never this registry, so no route module sits in a cycle.
"""

from __future__ import annotations

from flask import Blueprint

from . import (  # noqa: F401  (routes register on bp)
    account,
    admin,
    attendance,
    audit_trail,
    auth,
    authoring,
    certificate_issuing,
    certificates,
    checkin,
    completion,
    coordinator,
    credentials,
    enrolments,
    exports,
    feedback,
    learner,
    learner_work,
    lti_admin,
    lti_launch,
    my_data,
    outbox,
    participant_reports,
    profile,
    public,
    quiz_authoring,
    staff,
)
from .blueprint import bp


def create_blueprint() -> Blueprint:
    """The blueprint with every route registered."""
    return bp
