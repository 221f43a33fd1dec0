"""Records and privacy: a learner's data export (their own and the coordinator's copy) and erasure.

The learner's copy at ``/learn/my-data.json`` includes the text of their own exercise responses;
the coordinator's copy does not (responses are private to the learner). Erasure pseudonymises the
profile and keeps attendance, certificates and the audit trail (see ``operations.erasure``).
"""

from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..forms.coordinator import EraseForm
from ..models.accounts import User
from ..models.offerings import Enrolment, Offering
from ..operations.erasure import ErasureError, erase_learner
from ..reports.learner_export import learner_data
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .coordinator import OFFERING, coordinator_actor
from .exports import audit_download
from .helpers import get_or_404
from .learner_common import learner_actor


def _json_attachment(data: dict[str, object], filename: str) -> Response:
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/learn/my-data.json")
@require_permission(Permission.LEARN)
def my_data():
    """Everything the course holds about me, including the text of my own responses (JSON)."""
    user_id = current_user.id
    audit_download(learner_actor(), "learner_data", "json", learner_id=user_id)
    user = db.session.get(User, user_id)
    return _json_attachment(learner_data(user, include_response_text=True), "imh-my-data.json")


def _enrolled(offering: Offering, learner_id: int) -> User:
    enrolled = db.session.scalar(
        select(Enrolment.id).where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner_id)
    )
    if enrolled is None:
        abort(404)
    return db.session.get(User, learner_id)


@bp.route(OFFERING + "/learners/<dbint:learner_id>/data.json")
@require_permission(Permission.EXPORT_REPORTS)
def learner_data_export(offering_id: int, learner_id: int):
    """A learner's data for a subject-access request, without the text of their private responses."""
    offering = get_or_404(Offering, offering_id)
    _enrolled(offering, learner_id)
    audit_download(
        coordinator_actor(), "learner_data", "json", offering_id=offering_id, learner_id=learner_id
    )
    user = db.session.get(User, learner_id)
    return _json_attachment(
        learner_data(user, include_response_text=False), f"imh-learner-{learner_id}-data.json"
    )


@bp.route(OFFERING + "/learners/<dbint:learner_id>/erase", methods=["GET", "POST"])
@require_permission(Permission.CORRECT_RECORDS)
def learner_erase(offering_id: int, learner_id: int):
    """Pseudonymise a learner's profile on their request (reason required; records are kept)."""
    offering = get_or_404(Offering, offering_id)
    learner = _enrolled(offering, learner_id)
    form = EraseForm()
    if form.validate_on_submit():
        try:
            erase_learner(coordinator_actor(), learner, form.reason.data)
        except ErasureError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"The learner's profile was erased; they now appear as “{learner.full_name}”.", "success")
            return redirect(url_for("imh.learner_drilldown", offering_id=offering.id, learner_id=learner_id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/erase.html", form=form, offering=offering, learner=learner
    ), status
