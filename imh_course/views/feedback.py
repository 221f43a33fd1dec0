"""Instructors read the responses learners shared with them and write feedback.

Only ``Permission.REVIEW_SHARED_RESPONSES`` and teaching the offering open these pages; a
coordinator who does not teach it gets 403 (no permission) or 404 (not assigned), never the text.
A private or draft response, or one from another offering, is a 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..extensions import db
from ..forms.authoring import FeedbackForm
from ..models.audit_chain import Actor
from ..models.offerings import Offering
from ..operations.feedback import FeedbackError, add_feedback, learner_of, shared_response, shared_responses
from ..security.access import require_permission, teaches
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404

MARKDOWN_HINT = "Markdown: **bold**, *italics*, lists (- item), [links](https://…). HTML is shown as typed."


def _offering(offering_id: int) -> Offering:
    offering = get_or_404(Offering, offering_id)
    if not teaches(current_user, offering):
        abort(404)
    return offering


@bp.route("/staff/offerings/<dbint:offering_id>/responses")
@require_permission(Permission.REVIEW_SHARED_RESPONSES)
def shared_responses_list(offering_id: int):
    """Submitted exercise responses that learners of this offering shared with their instructors."""
    offering = _offering(offering_id)
    return render_template(
        "imh_course/feedback/list.html", offering=offering, responses=shared_responses(offering)
    )


@bp.route("/staff/offerings/<dbint:offering_id>/responses/<dbint:response_id>", methods=["GET", "POST"])
@require_permission(Permission.REVIEW_SHARED_RESPONSES)
def shared_response_page(offering_id: int, response_id: int):
    """One shared response, the feedback so far, and a form to add feedback the learner will see."""
    offering = _offering(offering_id)
    response = shared_response(offering, response_id)
    if response is None:
        abort(404)
    form = FeedbackForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                add_feedback(
                    Actor(user=current_user, role=Role.INSTRUCTOR.value, ip_address=client_ip()),
                    response,
                    form.body.data or "",
                )
                db.session.commit()
            except FeedbackError as exc:
                db.session.rollback()
                form.body.errors = [*form.body.errors, str(exc)]
                status = 400
            else:
                flash("Your feedback is saved. The learner sees it on their exercise page.", "success")
                return redirect(
                    url_for("imh.shared_response_page", offering_id=offering.id, response_id=response.id)
                    + "#feedback"
                )
        else:
            status = 400
    return (
        render_template(
            "imh_course/feedback/response.html",
            offering=offering,
            response=response,
            learner=learner_of(response),
            form=form,
            markdown_hint=MARKDOWN_HINT,
        ),
        status,
    )
