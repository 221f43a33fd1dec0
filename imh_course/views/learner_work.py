"""The learner's independent work: readings, exercise responses and quiz attempts."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..converters import parse_db_int
from ..extensions import db
from ..forms.learner import ExerciseResponseForm, MarkCompleteForm, build_quiz_form
from ..models.curriculum import CourseSession, Exercise, Quiz, Reading
from ..models.offerings import EnrolmentStatus, Offering
from ..models.progress import ExerciseResponse, ResponseFeedback
from ..models.quizzes import QuizAttempt
from ..operations.progress import ProgressError, mark_reading_complete, save_response
from ..operations.quizzes import QuizError, attempts_for, grade_answers, submit_attempt
from ..rules.grading import attempts_left
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .learner_common import current_item, learner_actor, require_writable, studied_offering


@bp.route("/learn/offerings/<dbint:offering_id>/readings/<key>/complete", methods=["POST"])
@require_permission(Permission.LEARN)
def reading_complete(offering_id: int, key: str):
    """Mark a reading complete: one click, idempotent, records when."""
    offering, enrolment = studied_offering(offering_id)
    require_writable(enrolment)
    reading = current_item(Reading, offering, key)
    if MarkCompleteForm().validate_on_submit():
        _completion, created = mark_reading_complete(learner_actor(), offering, reading)
        db.session.commit()
        if created:
            flash(f"“{reading.title}” is marked as read.", "success")
    return redirect(
        url_for("imh.session_page", offering_id=offering.id, number=reading.session.number)
        + f"#reading-{key}"
    )


@bp.route("/learn/offerings/<dbint:offering_id>/exercises/<key>", methods=["GET", "POST"])
@require_permission(Permission.LEARN)
def exercise(offering_id: int, key: str):
    """Write, save as draft, submit and later edit a response; private unless shared."""
    offering, enrolment = studied_offering(offering_id)
    item = current_item(Exercise, offering, key)
    response = db.session.scalar(
        select(ExerciseResponse)
        .where(
            ExerciseResponse.user_id == current_user.id,
            ExerciseResponse.offering_id == offering.id,
            ExerciseResponse.exercise_key == key,
        )
        # The page lists each instructor's feedback by name: all of it in one go, whoever wrote it.
        .options(selectinload(ExerciseResponse.feedback).joinedload(ResponseFeedback.author))
    )
    form = ExerciseResponseForm(obj=None)
    if request.method == "GET" and response is not None:
        form.body.data, form.share.data = response.body, response.is_shared
    read_only = enrolment.status is EnrolmentStatus.WITHDRAWN
    status = 200
    if request.method == "POST":
        require_writable(enrolment)
        if form.validate_on_submit():
            try:
                response = save_response(
                    learner_actor(),
                    offering,
                    item,
                    form.body.data or "",
                    submit=bool(form.submit_response.data),
                    share=bool(form.share.data),
                )
                db.session.commit()
            except ProgressError as exc:
                db.session.rollback()
                form.body.errors.append(str(exc))
                status = 400
            else:
                flash(
                    "Your response is submitted." if form.submit_response.data else "Draft saved.", "success"
                )
                return redirect(url_for("imh.exercise", offering_id=offering.id, key=key))
        else:
            status = 400
    return render_template(
        "imh_course/learner/exercise.html",
        offering=offering,
        exercise=item,
        response=response,
        form=form,
        read_only=read_only,
    ), status


def _quiz_version(offering: Offering, key: str, version_id: str | None) -> Quiz:
    """The version the learner's form was built from (any version of this key in the course).

    No version (a GET) or an unknown one is the current version; a value no page ever printed
    (``²``, ``2**31``, ``-1``) is a forged form: 400, before anything reaches the database.
    """
    if version_id and version_id.strip():
        number = parse_db_int(version_id)
        if number is None:
            abort(400)
        quiz = db.session.scalar(
            select(Quiz)
            .join(CourseSession, Quiz.session_id == CourseSession.id)
            .where(Quiz.id == number, Quiz.key == key, CourseSession.course_id == offering.course_id)
        )
        if quiz is not None:
            return quiz
    return current_item(Quiz, offering, key)


@bp.route("/learn/offerings/<dbint:offering_id>/quizzes/<key>", methods=["GET", "POST"])
@require_permission(Permission.LEARN)
def quiz(offering_id: int, key: str):
    """Take a quiz; the attempt is graded once and tied to the version shown."""
    offering, enrolment = studied_offering(offering_id)
    version = _quiz_version(
        offering, key, request.form.get("quiz_version") if request.method == "POST" else None
    )
    previous = attempts_for(current_user.id, offering.id, key)
    passed = next((a for a in previous if a.passed), None)
    left = attempts_left(version.max_attempts, len(previous))
    form = build_quiz_form(version.questions)
    status = 200
    if request.method == "GET":
        form.attempt_no.data = str(len(previous) + 1)
        form.quiz_version.data = str(version.id)
    else:
        require_writable(enrolment)
        attempt_no = parse_db_int(form.attempt_no.data)
        if attempt_no is None:
            abort(400)
        if form.validate_on_submit():
            answers = {q.key: _as_list(getattr(form, f"q_{q.key}").data) for q in version.questions}
            try:
                outcome = submit_attempt(learner_actor(), offering, version, attempt_no, answers)
                db.session.commit()
            except QuizError as exc:
                db.session.rollback()
                flash(str(exc), "error")
                return redirect(url_for("imh.quiz", offering_id=offering.id, key=key))
            return redirect(url_for("imh.attempt_result", attempt_id=outcome.attempt.id))
        status = 400
    return render_template(
        "imh_course/learner/quiz.html",
        offering=offering,
        quiz=version,
        form=form,
        attempts=previous,
        passed=passed,
        attempts_left=left,
        read_only=enrolment.status is EnrolmentStatus.WITHDRAWN,
    ), status


def _as_list(value: object) -> list[str]:
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@bp.route("/learn/attempts/<dbint:attempt_id>")
@require_permission(Permission.LEARN)
def attempt_result(attempt_id: int):
    """Score, pass/fail and per-question feedback of one of the learner's own attempts."""
    attempt = db.session.get(QuizAttempt, attempt_id)
    if attempt is None or attempt.user_id != current_user.id:
        abort(404)  # another learner's attempt looks like no attempt at all
    offering, _enrolment = studied_offering(attempt.offering_id)
    version = attempt.quiz
    result = grade_answers(version, attempt.answers)
    previous = attempts_for(current_user.id, offering.id, attempt.quiz_key)
    left = attempts_left(version.max_attempts, len(previous))
    finished = any(a.passed for a in previous) or left == 0
    return render_template(
        "imh_course/learner/attempt.html",
        offering=offering,
        attempt=attempt,
        quiz=version,
        results={r.question_id: r for r in result.questions},
        show_all_feedback=finished,
        attempts_left=left,
        current_key=attempt.quiz_key,
    )
