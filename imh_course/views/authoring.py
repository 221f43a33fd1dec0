"""Instructors author the exercises of the sessions of offerings they teach, and see each session's content.

The curriculum is shared by every offering of the course (content rows hang off CourseSession);
routes are scoped by offering only to decide access: an instructor assigned to the offering may
author for its course's sessions, anyone else gets 404 (403 without the permission at all).

Pipeline per route (views/staff.py style): load or 404 -> authorise -> validate the form ->
call ``operations/authoring.py`` -> commit once -> redirect. Invalid input re-renders the form
with its messages (400); a version saved meanwhile by someone else re-renders it with a warning
(409); nothing a user types produces a 500. "Preview" renders the shared learner partials
(``partials/exercise.html``, ``partials/question.html``) from the validated, sanitised but unsaved
input, so it is exactly what learners will see.

The quiz routes are in ``views/quiz_authoring.py``; they load, authorise and redirect with this
module's helpers (``authored_session``, ``author_actor``, ``base_version_of``, ``session_url``,
``show_conflict``), so both halves answer alike.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..converters import parse_db_int
from ..extensions import db
from ..forms.authoring import MARKDOWN_HINT, ActionForm, ExerciseForm
from ..models.audit_chain import Actor
from ..models.curriculum import ContentOrigin, CourseSession, Exercise
from ..models.offerings import Offering
from ..operations import authoring as ops
from ..operations import quiz_authoring as quiz_ops
from ..security.access import can_author, require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404

BASE = "/staff/offerings/<dbint:offering_id>"
SESSION = BASE + "/sessions/<dbint:number>"


def author_actor() -> Actor:
    """The signed-in user acting as instructor (the role every authoring change is audited with)."""
    return Actor(user=current_user, role=Role.INSTRUCTOR.value, ip_address=client_ip())


def _offering(offering_id: int) -> Offering:
    offering = get_or_404(Offering, offering_id)
    if not can_author(current_user, offering):
        abort(404)
    return offering


def authored_session(offering_id: int, number: int) -> tuple[Offering, CourseSession]:
    """The offering and its course's session ``number``, or 404 (also when the user may not author)."""
    offering = _offering(offering_id)
    session = db.session.scalar(
        select(CourseSession).where(
            CourseSession.course_id == offering.course_id, CourseSession.number == number
        )
    )
    if session is None:
        abort(404)
    return offering, session


def _exercise(session: CourseSession, key: str) -> Exercise:
    exercise = ops.current_exercise(session, key)
    if exercise is None:
        abort(404)
    return exercise


def base_version_of(form: Any) -> int | None:
    """The version the edit form started from (its hidden field), or None when the form has none.

    A value no page ever printed (``²``, ``2**31``, ``-1``) is a forged form: 400, nothing saved.
    """
    value = (form.base_version.data or "").strip()
    if not value:
        return None
    version = parse_db_int(value)
    if version is None:
        abort(400)
    return version


def session_url(offering: Offering, session: CourseSession, anchor: str = "") -> str:
    url = url_for("imh.authoring_session", offering_id=offering.id, number=session.number)
    return url + (f"#{anchor}" if anchor else "")


def show_conflict(form: Any) -> None:
    """Roll back and tell the editor someone saved a newer version; their input stays in the form."""
    db.session.rollback()
    form.item_errors = [
        "Someone saved a newer version while you were editing, so your changes were not saved. "
        "They are still in the form below: open the item again to see the newer version."
    ]


# --- overview -------------------------------------------------------------------------------------


@bp.route(BASE + "/content")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_index(offering_id: int):
    """The course's sessions with their exercises and quiz, for an instructor of this offering."""
    offering = _offering(offering_id)
    sessions = db.session.scalars(
        select(CourseSession)
        .where(CourseSession.course_id == offering.course_id)
        .order_by(CourseSession.number)
    ).all()
    ids = [s.id for s in sessions]
    exercises, quizzes = ops.exercises_by_session(ids), quiz_ops.quizzes_by_session(ids)
    rows = [(s, exercises[s.id], quizzes.get(s.id)) for s in sessions]
    return render_template("imh_course/authoring/index.html", offering=offering, rows=rows)


@bp.route(SESSION + "/content")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_session(offering_id: int, number: int):
    """One session's exercises and quiz: status, version, edit, preview, publish."""
    offering, session = authored_session(offering_id, number)
    return render_template(
        "imh_course/authoring/session.html",
        offering=offering,
        session=session,
        exercises=ops.session_exercises(session),
        quiz=quiz_ops.session_quiz(session),
        action_form=ActionForm(),
        ContentOrigin=ContentOrigin,
    )


# --- exercises ------------------------------------------------------------------------------------


def _exercise_page(offering, session, form, exercise=None, preview=None, status=200):  # noqa: ANN001, ANN202
    return (
        render_template(
            "imh_course/authoring/exercise_form.html",
            offering=offering,
            session=session,
            form=form,
            exercise=exercise,
            preview=preview,
            markdown_hint=MARKDOWN_HINT,
        ),
        status,
    )


@bp.route(SESSION + "/exercises/new", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_new(offering_id: int, number: int):
    """Write a new exercise; it is saved as an unpublished draft."""
    offering, session = authored_session(offering_id, number)
    form = ExerciseForm()
    if not form.is_submitted():
        return _exercise_page(offering, session, form)
    if not form.validate():
        return _exercise_page(offering, session, form, status=400)
    try:
        if form.preview.data:
            preview = ops.preview_exercise(session, form.draft())
            return _exercise_page(offering, session, form, preview=preview)
        exercise = ops.create_exercise(author_actor(), session, form.draft())
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _exercise_page(offering, session, form, status=400)
    flash(f"“{exercise.title}” is saved as a draft. Learners see it once you publish it.", "success")
    return redirect(session_url(offering, session, f"exercise-{exercise.key}"))


@bp.route(SESSION + "/exercises/<key>/edit", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_edit(offering_id: int, number: int, key: str):
    """Edit an exercise; saving a change makes a new version (earlier responses keep theirs)."""
    offering, session = authored_session(offering_id, number)
    exercise = _exercise(session, key)
    form = ExerciseForm()
    if not form.is_submitted():
        draft = ops.exercise_draft_of(exercise)
        form.title.data, form.kind.data = draft.title, draft.kind
        form.estimated_minutes.data, form.instructions.data = draft.estimated_minutes, draft.instructions
        form.base_version.data = str(exercise.version)
        return _exercise_page(offering, session, form, exercise)
    if not form.validate():
        return _exercise_page(offering, session, form, exercise, status=400)
    try:
        if form.preview.data:
            preview = ops.preview_exercise(session, form.draft(), key=exercise.key)
            return _exercise_page(offering, session, form, exercise, preview=preview)
        saved, changed = ops.edit_exercise(
            author_actor(), exercise, form.draft(), base_version=base_version_of(form)
        )
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _exercise_page(offering, session, form, exercise, status=400)
    except ops.EditConflict:
        show_conflict(form)
        return _exercise_page(offering, session, form, _exercise(session, key), status=409)
    if changed:
        flash(f"Saved “{saved.title}” as version {saved.version}.", "success")
    else:
        flash("Nothing changed, so no new version was made.", "info")
    return redirect(session_url(offering, session, f"exercise-{saved.key}"))


@bp.route(SESSION + "/exercises/<key>/preview")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_preview(offering_id: int, number: int, key: str):
    """The saved current version, exactly as learners see it."""
    offering, session = authored_session(offering_id, number)
    exercise = _exercise(session, key)
    return render_template(
        "imh_course/authoring/exercise_preview.html", offering=offering, session=session, exercise=exercise
    )


@bp.route(SESSION + "/exercises/<key>/<any(publish, unpublish):action>", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_publish(offering_id: int, number: int, key: str, action: str):
    """Publish the current version, or hide it from learners (nobody's work is deleted)."""
    offering, session = authored_session(offering_id, number)
    exercise = _exercise(session, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    if ops.set_published(author_actor(), exercise, action == "publish"):
        db.session.commit()
        flash(
            f"“{exercise.title}” is published."
            if action == "publish"
            else f"“{exercise.title}” is hidden from learners. Their responses are kept.",
            "success",
        )
    return redirect(session_url(offering, session, f"exercise-{exercise.key}"))
