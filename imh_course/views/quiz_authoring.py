"""Instructors author a session's quiz: its settings, its questions, preview and publication.

Split from ``views/authoring.py`` (the house's ~400-line rule): these routes drive
``operations/quiz_authoring.py``. They load, authorise and redirect with the helpers of
``views/authoring.py`` (404 for an offering the user does not author for, 403 without the
permission), follow the same pipeline (load or 404 -> authorise -> validate the form -> operate
-> commit once -> redirect; 400 with the messages for invalid input, 409 when someone saved a
newer version meanwhile), and "Preview" renders the learner's ``partials/question.html`` from the
validated, unsaved input. Endpoint names and URLs are those the routes had in ``views/authoring.py``.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for

from ..extensions import db
from ..forms.authoring import MARKDOWN_HINT, ActionForm, NewQuizForm, QuestionForm, QuizSettingsForm
from ..models.curriculum import CourseSession, Quiz
from ..operations import authoring as ops
from ..operations import quiz_authoring as quiz_ops
from ..security.access import require_permission
from ..security.roles import Permission
from .authoring import SESSION, author_actor, authored_session, base_version_of, session_url, show_conflict
from .blueprint import bp


def _quiz(session: CourseSession) -> Quiz:
    quiz = quiz_ops.session_quiz(session)
    if quiz is None:
        abort(404)
    return quiz


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
    offering, session = authored_session(offering_id, number)
    if quiz_ops.session_quiz(session) is not None:
        return redirect(url_for("imh.authoring_question_new", offering_id=offering.id, number=number))
    form = NewQuizForm()
    if not form.is_submitted():
        form.title.data = f"Session {session.number} Quiz: {session.title}"[:300]
        return _question_page(offering, session, form)
    if not form.validate():
        return _question_page(offering, session, form, status=400)
    base_version_of(form)  # a new quiz has no version yet: an unreadable one is a forged form (400)
    draft, rows = form.question_draft()
    try:
        if form.preview.data:
            preview = quiz_ops.preview_question(draft, "q1")
            return _question_page(offering, session, form, preview=preview)
        quiz = quiz_ops.create_quiz(author_actor(), session, form.settings(), draft)
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows)
        return _question_page(offering, session, form, status=400)
    flash(f"“{quiz.title}” is saved as a draft. Learners see it once you publish it.", "success")
    return redirect(session_url(offering, session, "quiz"))


@bp.route(SESSION + "/quiz/settings", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_settings(offering_id: int, number: int):
    """Title, estimated minutes, pass mark and attempts; a change makes a new quiz version."""
    offering, session = authored_session(offering_id, number)
    quiz = _quiz(session)
    form = QuizSettingsForm()
    status = 200
    if not form.is_submitted():
        form.fill_settings(quiz_ops.quiz_settings_of(quiz))
        form.base_version.data = str(quiz.version)
    elif not form.validate():
        status = 400
    else:
        try:
            saved, changed = quiz_ops.edit_quiz_settings(
                author_actor(), quiz, form.settings(), base_version=base_version_of(form)
            )
            db.session.commit()
        except ops.AuthoringError as exc:
            db.session.rollback()
            form.show_problems(exc.problems)
            status = 400
        except ops.EditConflict:
            show_conflict(form)
            quiz, status = _quiz(session), 409
        else:
            flash(
                f"Saved the quiz settings as version {saved.version}." if changed else "Nothing changed.",
                "success" if changed else "info",
            )
            return redirect(session_url(offering, session, "quiz"))
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
    offering, session = authored_session(offering_id, number)
    quiz = _quiz(session)
    return render_template(
        "imh_course/authoring/quiz_preview.html", offering=offering, session=session, quiz=quiz
    )


@bp.route(SESSION + "/quiz/<any(publish, unpublish):action>", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_quiz_publish(offering_id: int, number: int, action: str):
    """Publish the current quiz version, or hide it (attempts and scores are kept)."""
    offering, session = authored_session(offering_id, number)
    quiz = _quiz(session)
    if not ActionForm().validate_on_submit():
        abort(400)
    if ops.set_published(author_actor(), quiz, action == "publish"):
        db.session.commit()
        flash(
            f"“{quiz.title}” is published."
            if action == "publish"
            else f"“{quiz.title}” is hidden from learners. Their attempts are kept.",
            "success",
        )
    return redirect(session_url(offering, session, "quiz"))


@bp.route(SESSION + "/quiz/questions/new", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_new(offering_id: int, number: int):
    """Add a question: the quiz gets a new version (earlier attempts keep theirs)."""
    offering, session = authored_session(offering_id, number)
    quiz = quiz_ops.session_quiz(session)
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
            preview = quiz_ops.preview_question(draft, "new")
            return _question_page(offering, session, form, quiz=quiz, preview=preview)
        saved, key = quiz_ops.add_question(author_actor(), quiz, draft, base_version=base_version_of(form))
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows, len(quiz.questions) + 1)
        return _question_page(offering, session, form, quiz=quiz, status=400)
    except ops.EditConflict:
        show_conflict(form)
        return _question_page(offering, session, form, quiz=_quiz(session), status=409)
    flash(f"Question added: the quiz is now version {saved.version}.", "success")
    return redirect(session_url(offering, session, f"question-{key}"))


@bp.route(SESSION + "/quiz/questions/<qkey>/edit", methods=["GET", "POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_edit(offering_id: int, number: int, qkey: str):
    """Edit one question: the quiz gets a new version with the other questions copied."""
    offering, session = authored_session(offering_id, number)
    quiz = _quiz(session)
    question = quiz_ops.find_question(quiz, qkey)
    if question is None:
        abort(404)
    form = QuestionForm()
    if not form.is_submitted():
        form.fill_question(quiz_ops.question_draft_of(question))
        form.base_version.data = str(quiz.version)
        return _question_page(offering, session, form, quiz=quiz, question=question)
    if not form.validate():
        return _question_page(offering, session, form, quiz=quiz, question=question, status=400)
    draft, rows = form.question_draft()
    option_ids = [o["id"] for o in question.options]
    try:
        if form.preview.data:
            preview = quiz_ops.preview_question(draft, qkey, option_ids)
            return _question_page(offering, session, form, quiz=quiz, question=question, preview=preview)
        saved, changed = quiz_ops.edit_question(
            author_actor(), quiz, qkey, draft, base_version=base_version_of(form)
        )
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        form.show_problems(exc.problems, rows, question.position + 1)
        return _question_page(offering, session, form, quiz=quiz, question=question, status=400)
    except ops.EditConflict:
        show_conflict(form)
        return _question_page(offering, session, form, quiz=_quiz(session), question=question, status=409)
    if changed:
        flash(f"Question saved: the quiz is now version {saved.version}.", "success")
    else:
        flash("Nothing changed, so no new version was made.", "info")
    return redirect(session_url(offering, session, f"question-{qkey}"))


@bp.route(SESSION + "/quiz/questions/<qkey>/remove", methods=["POST"])
@require_permission(Permission.AUTHOR_CONTENT)
def authoring_question_remove(offering_id: int, number: int, qkey: str):
    """Remove a question from the quiz (a new version; earlier attempts keep the old one)."""
    offering, session = authored_session(offering_id, number)
    quiz = _quiz(session)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        saved, _changed = quiz_ops.remove_question(
            author_actor(), quiz, qkey, base_version=base_version_of(form)
        )
        db.session.commit()
    except ops.AuthoringError as exc:
        db.session.rollback()
        flash(" ".join(m for msgs in exc.problems.values() for m in msgs), "error")
    except ops.EditConflict:
        db.session.rollback()
        flash("The quiz changed meanwhile; nothing was removed. Please check it and try again.", "error")
    else:
        flash(f"Question removed: the quiz is now version {saved.version}.", "success")
    return redirect(session_url(offering, session, "quiz"))
