"""From the module's events to queued statements: called by the operations, in their transaction.

Each ``on_*`` does nothing while xAPI is off. It turns the rows at hand into plain facts, builds
the statement (:mod:`.statements`) and queues it (:mod:`.queue`); the caller's commit or rollback
decides whether it is ever sent. Natural keys give stable statement ids, so producing the same
event twice queues it once.
"""

from __future__ import annotations

from flask import current_app

from ..models.accounts import User
from ..models.attendance import AttendanceRecord
from ..models.certificates import Certificate
from ..models.curriculum import Exercise, Quiz, Reading
from ..models.offerings import Meeting, Offering
from ..models.progress import ExerciseResponse, ReadingCompletion
from ..models.quizzes import QuizAttempt
from ..models.types import utcnow
from ..records.ledgers import credit_for, credit_policy
from . import statements as build
from .queue import enabled, enqueue, latest_for


def site_of(offering: Offering) -> build.Site:
    course = offering.course
    return build.Site(
        base_url=current_app.config["IMH_BASE_URL"],
        course_key=course.key,
        course_title=course.title,
        offering_id=offering.id,
        offering_label=f"{course.title} — {offering.label}",
    )


def learner_of(user: User) -> build.Learner:
    """How the LRS knows ``user``: the hashed address for now.

    The seam for LTI: a learner who came through an LMS launch will carry that platform's account
    (homePage, name) here, and :func:`statements.agent` then names the account instead.
    """
    return build.Learner(email=user.email)


def on_attendance(record: AttendanceRecord, meeting: Meeting, learner: User, event_id: int) -> None:
    """A saved attendance change (mark, sign-out, correction): void the last statement, send the new one."""
    if not enabled():
        return
    site, who = site_of(meeting.offering), learner_of(learner)
    subject = f"attendance:{record.id}"
    now = utcnow()
    previous = latest_for(subject, "attended")
    if previous is not None:
        key = f"void:{previous.statement_id}"  # voiding it twice is queued once
        enqueue(
            build.voiding(site, who, key=key, target_id=previous.statement_id, when=now), subject, learner.id
        )
    attended, credited = credit_for(meeting, record, credit_policy(current_app.config))
    if attended <= 0:
        return
    session = meeting.session
    statement = build.attended_meeting(
        site,
        who,
        key=f"attendance:{record.id}:event:{event_id}",
        meeting_id=meeting.id,
        title=f"Session {session.number}: {session.title}",
        start=meeting.start_dt,
        attended_minutes=attended,
        credited_minutes=credited,
        ce_eligible=meeting.is_ce_eligible,
    )
    enqueue(statement, subject, learner.id)


def on_reading_completed(
    offering: Offering, reading: Reading, completion: ReadingCompletion, user: User
) -> None:
    if not enabled():
        return
    key = f"reading:{offering.id}:{user.id}:{reading.key}"
    statement = build.completed_reading(
        site_of(offering),
        learner_of(user),
        key=key,
        reading_key=reading.key,
        title=reading.title,
        minutes=reading.estimated_minutes,
        when=completion.completed_dt or utcnow(),
    )
    enqueue(statement, key, user.id)


def on_exercise_submitted(
    offering: Offering, exercise: Exercise, response: ExerciseResponse, user: User
) -> None:
    """Submitted: the title and the estimated minutes only; the response's text stays here."""
    if not enabled():
        return
    key = f"exercise:{offering.id}:{user.id}:{exercise.key}"
    statement = build.submitted_exercise(
        site_of(offering),
        learner_of(user),
        key=key,
        exercise_key=exercise.key,
        title=exercise.title,
        minutes=exercise.estimated_minutes,
        when=response.submitted_dt or utcnow(),
    )
    enqueue(statement, key, user.id)


def on_quiz_attempt(offering: Offering, quiz: Quiz, attempt: QuizAttempt, user: User) -> None:
    if not enabled():
        return
    key = f"quiz:{offering.id}:{user.id}:{quiz.key}:attempt:{attempt.attempt_no}"
    statement = build.quiz_attempt(
        site_of(offering),
        learner_of(user),
        key=key,
        quiz_key=quiz.key,
        title=quiz.title,
        attempt_no=attempt.attempt_no,
        points=attempt.points,
        max_points=attempt.max_points,
        passed=attempt.passed,
        when=utcnow(),
    )
    enqueue(statement, key, user.id)


def _certificate_key(certificate: Certificate) -> str:
    return f"certificate:{certificate.public_id}"


def on_certificate_issued(offering: Offering, certificate: Certificate, user: User) -> None:
    """Issued or reissued: each certificate version is earned once."""
    if not enabled():
        return
    key = _certificate_key(certificate)
    statement = build.earned_certificate(
        site_of(offering),
        learner_of(user),
        key=key,
        public_id=certificate.public_id,
        kind=str(certificate.kind.value if hasattr(certificate.kind, "value") else certificate.kind),
        title=f"Certificate: {offering.course.title} — {offering.label}",
        when=certificate.issued_dt or utcnow(),
    )
    enqueue(statement, key, user.id)


def on_certificate_withdrawn(certificate: Certificate, user: User) -> None:
    """Revoked or superseded: the earned statement of that version is voided."""
    if not enabled():
        return
    key = _certificate_key(certificate)
    earned = latest_for(key, "earned")
    if earned is None:  # issued before xAPI was switched on
        return
    from ..extensions import db

    site = site_of(db.session.get(Offering, certificate.offering_id))
    void = build.voiding(
        site,
        learner_of(user),
        key=f"void:{earned.statement_id}",
        target_id=earned.statement_id,
        when=utcnow(),
    )
    enqueue(void, key, user.id)
