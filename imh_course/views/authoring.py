"""Instructors author the exercises and quizzes of the sessions of offerings they teach.

The curriculum is shared by every offering of the course (content rows hang off CourseSession);
routes are scoped by offering only to decide access: an instructor assigned to the offering may
author for its course's sessions, anyone else gets 404 (403 without the permission at all).

Pipeline per route (views/staff.py style): load or 404 -> authorise -> validate the form ->
call ``operations/authoring.py`` -> commit once -> redirect. Invalid input re-renders the form
with its messages (400); a version saved meanwhile by someone else re-renders it with a warning
(409); nothing a user types produces a 500. "Preview" renders the shared learner partials
(``partials/exercise.html``, ``partials/question.html``) from the validated, sanitised but unsaved
input, so it is exactly what learners will see.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..access import can_author, require_permission
from ..extensions import db
from ..forms_authoring import (
    MARKDOWN_HINT,
    ActionForm,
    ExerciseForm,
    NewQuizForm,
    QuestionForm,
    QuizSettingsForm,
)
from ..models.curriculum import ContentOrigin, CourseSession, Exercise, Quiz
from ..models.offerings import Offering
from ..operations import authoring as ops
from ..operations.audit import Actor
from ..roles import Permission, Role
from . import bp
from .helpers import client_ip, get_or_404

BASE = "/staff/offerings/<int:offering_id>"
SESSION = BASE + "/sessions/<int:number>"


def _actor() -> Actor:
    return Actor(user=current_user, role=Role.INSTRUCTOR.value, ip_address=client_ip())


def _offering(offering_id: int) -> Offering:
    offering = get_or_404(Offering, offering_id)
    if not can_author(current_user, offering):
        abort(404)
    return offering


def _session(offering_id: int, number: int) -> tuple[Offering, CourseSession]:
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


def _quiz(session: CourseSession) -> Quiz:
    quiz = ops.session_quiz(session)
    if quiz is None:
        abort(404)
    return quiz


def _base_version(form: Any) -> int | None:
    value = (form.base_version.data or "").strip()
    return int(value) if value.isdigit() else None


def _session_url(offering: Offering, session: CourseSession, anchor: str = "") -> str:
    url = url_for("imh.authoring_session", offering_id=offering.id, number=session.number)
    return url + (f"#{anchor}" if anchor else "")


def _conflict(form: Any) -> None:
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
    rows = [(s, ops.session_exercises(s), ops.session_quiz(s)) for s in sessions]
    return render_template("imh_course/authoring/index.html", offering=offering, rows=rows)


@bp.route(SESSION + "/content")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_session(offering_id: int, number: int):
    """One session's exercises and quiz: status, version, edit, preview, publish."""
    offering, session = _session(offering_id, number)
    return render_template(
        "imh_course/authoring/session.html",
        offering=offering,
        session=session,
        exercises=ops.session_exercises(session),
        quiz=ops.session_quiz(session),
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
    offering, session = _session(offering_id, number)
    form = ExerciseForm()
    if not form.is_submitted():
        return _exercise_page(offering, session, form)
    if not form.validate():
        return _exercise_page(offering, session, form, status=400)
    try:
        if form.preview.data:
            preview = ops.preview_exercise(session, form.draft())
            return _exercise_page(offering, session, form, preview=preview)
        exercise = ops.create_exercise(_actor(), session, form.draft())
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _exercise_page(offering, session, form, status=400)
    flash(f"“{exercise.title}” is saved as a draft. Learners see it once you publish it.", "success")
    return redirect(_session_url(offering, session, f"exercise-{exercise.key}"))


@bp.route(SESSION + "/exercises/<key>/edit", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_edit(offering_id: int, number: int, key: str):
    """Edit an exercise; saving a change makes a new version (earlier responses keep theirs)."""
    offering, session = _session(offering_id, number)
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
        saved, changed = ops.edit_exercise(_actor(), exercise, form.draft(), base_version=_base_version(form))
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems)
        return _exercise_page(offering, session, form, exercise, status=400)
    except ops.EditConflict:
        _conflict(form)
        return _exercise_page(offering, session, form, _exercise(session, key), status=409)
    if changed:
        flash(f"Saved “{saved.title}” as version {saved.version}.", "success")
    else:
        flash("Nothing changed, so no new version was made.", "info")
    return redirect(_session_url(offering, session, f"exercise-{saved.key}"))


@bp.route(SESSION + "/exercises/<key>/preview")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_preview(offering_id: int, number: int, key: str):
    """The saved current version, exactly as learners see it."""
    offering, session = _session(offering_id, number)
    exercise = _exercise(session, key)
    return render_template(
        "imh_course/authoring/exercise_preview.html", offering=offering, session=session, exercise=exercise
    )


@bp.route(SESSION + "/exercises/<key>/<any(publish, unpublish):action>", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_exercise_publish(offering_id: int, number: int, key: str, action: str):
    """Publish the current version, or hide it from learners (nobody's work is deleted)."""
    offering, session = _session(offering_id, number)
    exercise = _exercise(session, key)
    if not ActionForm().validate_on_submit():
        abort(400)
    if ops.set_published(_actor(), exercise, action == "publish"):
        db.session.commit()
        flash(
            f"“{exercise.title}” is published."
            if action == "publish"
            else f"“{exercise.title}” is hidden from learners. Their responses are kept.",
            "success",
        )
    return redirect(_session_url(offering, session, f"exercise-{exercise.key}"))


# --- quizzes --------------------------------------------------------------------------------------


def _question_page(offering, session, form, *, quiz=None, question=None, preview=None, status=200):  # noqa: ANN001, ANN202
    return (
        render_template(
            "imh_course/authoring/question_form.html",
            offering=offering,
            session=session,
            form=form,
            quiz=quiz,
            question=question,
            preview=preview,
            new_quiz=isinstance(form, NewQuizForm),
            markdown_hint=MARKDOWN_HINT,
        ),
        status,
    )


@bp.route(SESSION + "/quiz/new", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_new(offering_id: int, number: int):
    """A quiz for a session that has none: its settings and a first question, saved as a draft."""
    offering, session = _session(offering_id, number)
    if ops.session_quiz(session) is not None:
        return redirect(url_for("imh.authoring_question_new", offering_id=offering.id, number=number))
    form = NewQuizForm()
    if not form.is_submitted():
        form.title.data = f"Session {session.number} Quiz: {session.title}"[:300]
        return _question_page(offering, session, form)
    if not form.validate():
        return _question_page(offering, session, form, status=400)
    draft, rows = form.question_draft()
    try:
        if form.preview.data:
            preview = ops.preview_question(draft, "q1")
            return _question_page(offering, session, form, preview=preview)
        quiz = ops.create_quiz(_actor(), session, form.settings(), draft)
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows)
        return _question_page(offering, session, form, status=400)
    flash(f"“{quiz.title}” is saved as a draft. Learners see it once you publish it.", "success")
    return redirect(_session_url(offering, session, "quiz"))


@bp.route(SESSION + "/quiz/settings", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_settings(offering_id: int, number: int):
    """Title, estimated minutes, pass mark and attempts; a change makes a new quiz version."""
    offering, session = _session(offering_id, number)
    quiz = _quiz(session)
    form = QuizSettingsForm()
    status = 200
    if not form.is_submitted():
        form.fill_settings(ops.quiz_settings_of(quiz))
        form.base_version.data = str(quiz.version)
    elif not form.validate():
        status = 400
    else:
        try:
            saved, changed = ops.edit_quiz_settings(
                _actor(), quiz, form.settings(), base_version=_base_version(form)
            )
            db.session.commit()
        except ops.AuthoringError as exc:
            db.session.rollback()
            form.show_problems(exc.problems)
            status = 400
        except ops.EditConflict:
            _conflict(form)
            quiz, status = _quiz(session), 409
        else:
            flash(
                f"Saved the quiz settings as version {saved.version}." if changed else "Nothing changed.",
                "success" if changed else "info",
            )
            return redirect(_session_url(offering, session, "quiz"))
    return (
        render_template(
            "imh_course/authoring/quiz_settings.html",
            offering=offering,
            session=session,
            quiz=quiz,
            form=form,
        ),
        status,
    )


@bp.route(SESSION + "/quiz/preview")
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_preview(offering_id: int, number: int):
    """The saved current quiz version, question by question, exactly as learners see it."""
    offering, session = _session(offering_id, number)
    quiz = _quiz(session)
    return render_template(
        "imh_course/authoring/quiz_preview.html", offering=offering, session=session, quiz=quiz
    )


@bp.route(SESSION + "/quiz/<any(publish, unpublish):action>", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_publish(offering_id: int, number: int, action: str):
    """Publish the current quiz version, or hide it (attempts and scores are kept)."""
    offering, session = _session(offering_id, number)
    quiz = _quiz(session)
    if not ActionForm().validate_on_submit():
        abort(400)
    if ops.set_published(_actor(), quiz, action == "publish"):
        db.session.commit()
        flash(
            f"“{quiz.title}” is published."
            if action == "publish"
            else f"“{quiz.title}” is hidden from learners. Their attempts are kept.",
            "success",
        )
    return redirect(_session_url(offering, session, "quiz"))


@bp.route(SESSION + "/quiz/questions/new", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_new(offering_id: int, number: int):
    """Add a question: the quiz gets a new version (earlier attempts keep theirs)."""
    offering, session = _session(offering_id, number)
    quiz = ops.session_quiz(session)
    if quiz is None:
        return redirect(url_for("imh.authoring_quiz_new", offering_id=offering.id, number=number))
    form = QuestionForm()
    if not form.is_submitted():
        form.base_version.data = str(quiz.version)
        return _question_page(offering, session, form, quiz=quiz)
    if not form.validate():
        return _question_page(offering, session, form, quiz=quiz, status=400)
    draft, rows = form.question_draft()
    try:
        if form.preview.data:
            preview = ops.preview_question(draft, "new")
            return _question_page(offering, session, form, quiz=quiz, preview=preview)
        saved, key = ops.add_question(_actor(), quiz, draft, base_version=_base_version(form))
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows)
        return _question_page(offering, session, form, quiz=quiz, status=400)
    except ops.EditConflict:
        _conflict(form)
        return _question_page(offering, session, form, quiz=_quiz(session), status=409)
    flash(f"Question added: the quiz is now version {saved.version}.", "success")
    return redirect(_session_url(offering, session, f"question-{key}"))


@bp.route(SESSION + "/quiz/questions/<qkey>/edit", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_edit(offering_id: int, number: int, qkey: str):
    """Edit one question: the quiz gets a new version with the other questions copied."""
    offering, session = _session(offering_id, number)
    quiz = _quiz(session)
    question = ops.find_question(quiz, qkey)
    if question is None:
        abort(404)
    form = QuestionForm()
    if not form.is_submitted():
        form.fill_question(ops.question_draft_of(question))
        form.base_version.data = str(quiz.version)
        return _question_page(offering, session, form, quiz=quiz, question=question)
    if not form.validate():
        return _question_page(offering, session, form, quiz=quiz, question=question, status=400)
    draft, rows = form.question_draft()
    option_ids = [o["id"] for o in question.options]
    try:
        if form.preview.data:
            preview = ops.preview_question(draft, qkey, option_ids)
            return _question_page(offering, session, form, quiz=quiz, question=question, preview=preview)
        saved, changed = ops.edit_question(_actor(), quiz, qkey, draft, base_version=_base_version(form))
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows)
        return _question_page(offering, session, form, quiz=quiz, question=question, status=400)
    except ops.EditConflict:
        _conflict(form)
        return _question_page(offering, session, form, quiz=_quiz(session), question=question, status=409)
    if changed:
        flash(f"Question saved: the quiz is now version {saved.version}.", "success")
    else:
        flash("Nothing changed, so no new version was made.", "info")
    return redirect(_session_url(offering, session, f"question-{qkey}"))


@bp.route(SESSION + "/quiz/questions/<qkey>/remove", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_remove(offering_id: int, number: int, qkey: str):
    """Remove a question from the quiz (a new version; earlier attempts keep the old one)."""
    offering, session = _session(offering_id, number)
    quiz = _quiz(session)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved, _changed = ops.remove_question(_actor(), quiz, qkey, base_version=_base_version(form))
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        flash(" ".join(m for msgs in exc.problems.values() for m in msgs), "error")
    except ops.EditConflict:
        db.session.rollback()
        flash("The quiz changed meanwhile; nothing was removed. Please check it and try again.", "error")
    else:
        flash(f"Question removed: the quiz is now version {saved.version}.", "success")
    return redirect(_session_url(offering, session, "quiz"))

