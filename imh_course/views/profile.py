"""The learner's profile: the name and license printed on certificates."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..forms.profile import ProfileForm
from ..operations.profile import ProfileData, set_meeting_reminders, update_profile
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .learner_common import learner_actor


@bp.route("/learn/profile", methods=["GET", "POST"])
@require_permission(Permission.LEARN)
def profile():
    """Certificate name, discipline and license (validated, never guessed), and the reminder choice."""
    current = current_user.profile
    form = ProfileForm()
    if request.method == "GET":
        form.meeting_reminders.data = current_user.meeting_reminders
    if request.method == "GET" and current is not None:
        form.certificate_name.data = current.certificate_name
        form.discipline.data = current.discipline
        form.license_type.data = current.license_type or ""
        form.license_number.data = current.license_number
        form.license_state.data = current.license_state
    if form.validate_on_submit():
        data = ProfileData(
            certificate_name=form.certificate_name.data,
            discipline=form.discipline.data or None,
            license_type=form.license_type.data or None,
            license_number=form.license_number.data or None,
            license_state=(form.license_state.data or "").upper() or None,
        )
        actor = learner_actor()
        changed = update_profile(actor, current_user, data)
        changed = set_meeting_reminders(actor, current_user, bool(form.meeting_reminders.data)) or changed
        db.session.commit()
        flash("Your profile is saved." if changed else "Nothing changed.", "success")
        return redirect(url_for("imh.profile"))
    status = 400 if request.method == "POST" else 200
    return render_template("imh_course/learner/profile.html", form=form), status
