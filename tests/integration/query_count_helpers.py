"""Helpers for the no-N+1 tests: count SQL statements, build the access-matrix world, grow data.

``build_world`` makes the same world as ``test_access_matrix.world`` (the demo offering, a second
offering taught by someone else, the learner's attempt, certificate, shared response and an
invitation link) as a plain function, so a module-scoped fixture can build it once. ``grow`` then
adds data of every kind the pages show; calling it first with a little and then with a lot gives a
"small" and a "large" data set of the same shape, so a page's statement count may differ between
them only through an N+1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Flask, current_app
from flask.testing import FlaskClient
from sqlalchemy import event, func, insert, select

from imh_course.credentials.keys import create_key
from imh_course.extensions import db
from imh_course.models import (
    AttendanceMethod,
    AttendanceRecord,
    Attestation,
    Certificate,
    Course,
    CourseSession,
    Enrolment,
    EvaluationReceipt,
    Exercise,
    ExerciseResponse,
    Funding,
    InstructorAssignment,
    LearnerProfile,
    Meeting,
    Offering,
    OutboxMessage,
    Quiz,
    QuizAttempt,
    Reading,
    ReadingCompletion,
    ResponseStatus,
    TokenPurpose,
    User,
    UserRole,
)
from imh_course.models.attendance import AttendanceEvidence, CheckInWindow, EvidenceKind
from imh_course.models.audit_chain import Actor, record_event
from imh_course.models.certificates import CertificateStatus, EvaluationAnswer
from imh_course.models.offerings import DeliveryFormat, EnrolmentStatus, Term
from imh_course.models.progress import ExerciseResponseRevision, ResponseFeedback
from imh_course.operations.accounts import create_user, find_user
from imh_course.operations.attendance import snapshot
from imh_course.operations.authoring import ExerciseDraft, create_exercise, edit_exercise, set_published
from imh_course.operations.certificates import reissue_certificate
from imh_course.operations.offerings import OfferingData, create_offering, schedule_meetings
from imh_course.operations.quiz_authoring import OptionDraft, QuestionDraft, add_question, session_quiz
from imh_course.operations.tokens import issue_token
from imh_course.rules.credit import AttendanceStatus
from imh_course.security.roles import Role
from tests.access_world import EMAILS
from tests.conftest import TEST_PASSWORD
from tests.integration.authoring_helpers import make_response
from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work
from tests.integration.learner_helpers import exercise_for, quiz_for, readings_for
from tests.integration.lti_helpers import lti_world

# --- counting -------------------------------------------------------------------------------------


@contextmanager
def counting() -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block."""
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


@dataclass
class Counted:
    """What one request answered and the SQL statements it sent."""

    status: int
    location: str  # where a redirect points ("" otherwise)
    statements: list[str] = field(repr=False)

    @property
    def count(self) -> int:
        return len(self.statements)


def request_counted(client: FlaskClient, url: str) -> Counted:
    """One GET from a fresh session, its streamed body consumed, with the statements it sent."""
    db.session.remove()  # like a real request: start from an empty session, nothing cached
    with counting() as statements:
        response = client.get(url)
        response.get_data()  # a streamed download runs its queries while the body is read
        response.close()
    db.session.remove()
    return Counted(response.status_code, response.headers.get("Location", ""), statements)


# --- the world (as test_access_matrix.world builds it) --------------------------------------------

CO_INSTRUCTOR = "co-instructor@example.org"


def login(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    db.session.remove()  # under an outer app context a request does not end the session itself
    assert response.status_code == 302, f"sign-in failed for {email}"


def logout(client: FlaskClient) -> None:
    client.post("/logout")
    db.session.remove()


def load_demo() -> int:
    """The shipped content and the demo cohort (what the ``content`` and ``demo`` fixtures do)."""
    from imh_course.content.loader import load_catalog
    from imh_course.content.sync import sync_catalog
    from imh_course.operations.demo import ensure_demo
    from tests.conftest import REPO_ROOT

    sync_catalog(load_catalog(REPO_ROOT))
    db.session.commit()
    result = ensure_demo(date.today(), password=TEST_PASSWORD, provider="Test Provider")
    db.session.commit()
    return result.offering.id


def _free_term() -> tuple[Term, int]:
    taken = {(o.term, o.year) for o in db.session.scalars(select(Offering))}
    return next((t, y) for y in range(2030, 2090) for t in Term if (t, y) not in taken)


def new_offering(instructor_ids: tuple[int, ...], *, meetings: bool = False) -> Offering:
    """Another offering of the course (the next free term), optionally with its weekly meetings."""
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    term, year = _free_term()
    offering = create_offering(
        Actor.system(),
        course,
        OfferingData(
            term=term,
            year=year,
            format=DeliveryFormat.IN_PERSON,
            location="Room 2, Family Center",
            timezone="America/New_York",
            instructor_ids=instructor_ids,
        ),
    )
    if meetings:
        schedule_meetings(Actor.system(), offering, date.today() - timedelta(weeks=2), 1, time(12, 0))
    db.session.commit()
    return offering


@dataclass
class World:
    """Identifiers of the world's objects; ``values`` fills the URL rules' arguments."""

    offering_id: int
    learner_id: int
    instructor_id: int
    values: dict[str, object] = field(default_factory=dict)
    grown: int = 0  # how many learners ``grow`` has added so far (their e-mails stay unique)


def build_world(app: Flask, client: FlaskClient) -> World:
    """The demo cohort plus an admin, a second offering with its own instructor, and the learner's objects."""
    offering_id = load_demo()
    system = Actor.system()
    create_user(
        system, email=EMAILS["admin"], full_name="Ada Admin", roles=[Role.ADMIN], password=TEST_PASSWORD
    )
    other = create_user(
        system,
        email=EMAILS["other_instructor"],
        full_name="Otto Other",
        roles=[Role.INSTRUCTOR],
        password=TEST_PASSWORD,
    )
    create_key(system)  # the Open Badges signing key (credential download and status list)
    db.session.commit()
    new_offering((other.id,))
    learner_id = find_user(EMAILS["learner"]).id
    instructor_id = find_user(EMAILS["instructor"]).id

    attend(offering_id, learner_id, 10)
    finish_independent_work(offering_id, learner_id)
    login(client, EMAILS["learner"])
    assert evaluate(client, offering_id).status_code == 302
    assert attest(client, app, offering_id, learner_id).status_code == 302
    logout(client)
    login(client, EMAILS["coordinator"])
    issued = client.post(f"/staff/offerings/{offering_id}/certificates/{learner_id}/issue")
    assert issued.status_code == 302
    logout(client)

    quiz = quiz_for(1)
    exercise = exercise_for(1)
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == learner_id))
    response = make_response(learner_id, offering_id, exercise)
    token = issue_token(db.session.get(User, learner_id), TokenPurpose.INVITE)
    db.session.commit()
    meeting = sorted(db.session.get(Offering, offering_id).meetings, key=lambda m: m.start_dt)[0]
    world = World(offering_id=offering_id, learner_id=learner_id, instructor_id=instructor_id)
    world.values = {
        "offering_id": offering_id,
        "meeting_id": meeting.id,
        "learner_id": learner_id,
        "user_id": learner_id,
        "number": 1,
        "attempt_id": attempt.id,
        "response_id": response.id,
        "qkey": quiz.questions[0].key,
        "fmt": "csv",
        "action": "publish",
        "token": token,
        # the certificate issued above queued its email
        "message_id": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(1)),
        "reading_key": readings_for(1)[0].key,
        "exercise_key": exercise.key,
        "quiz_key": quiz.key,
        **lti_world(learner_id),
    }
    refresh_values(world)
    return world


def refresh_values(world: World) -> None:
    """Point ``public_id`` at the learner's current valid certificate (a reissue supersedes the old one)."""
    world.values["public_id"] = db.session.scalar(
        select(Certificate.public_id).where(
            Certificate.user_id == world.learner_id,
            Certificate.offering_id == world.offering_id,
            Certificate.status == CertificateStatus.VALID,
        )
    )


# --- growing the data -----------------------------------------------------------------------------

LICENSES = (("LCSW", "012345"), ("LMHC", "054321"), ("RN", None), (None, None), ("LCSW", None), ("LMSW", "1"))
FUNDING = tuple(Funding)


def _current(model: type, course_id: int) -> list[Any]:
    return list(
        db.session.scalars(
            select(model)
            .join(CourseSession, model.session_id == CourseSession.id)
            .where(
                CourseSession.course_id == course_id,
                model.is_current.is_(True),
                model.is_published.is_(True),
            )
            .order_by(CourseSession.number, model.position)
        )
    )


def _insert_returning_ids(model: type, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    return list(db.session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True), rows))


def _insert(model: type, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(insert(model), rows)


def add_learners(world: World, offering_id: int, count: int) -> list[int]:
    """``count`` learners enrolled in the offering: mixed licences and funding, one in ten withdrawn."""
    now = datetime.now(UTC)
    first = world.grown
    world.grown += count
    ids = _insert_returning_ids(
        User,
        [
            {
                "email": f"grown{n}@example.org",
                "full_name": f"Grown Learner {n:03d}",
                "password_hash": None if n % 3 == 0 else "not-a-real-hash",
                "session_token": f"grown-token-{n}",
                "is_enabled": True,
                "created_dt": now,
            }
            for n in range(first, first + count)
        ],
    )
    _insert(UserRole, [{"user_id": i, "role": Role.LEARNER} for i in ids])
    _insert(
        LearnerProfile,
        [
            {
                "user_id": i,
                "certificate_name": f"Grown Learner {i}",
                "discipline": "Social work",
                "license_type": LICENSES[n % len(LICENSES)][0],
                "license_number": LICENSES[n % len(LICENSES)][1],
                "license_state": "NY",
                "updated_dt": now,
            }
            for n, i in enumerate(ids)
        ],
    )
    _insert(
        Enrolment,
        [
            {
                "offering_id": offering_id,
                "user_id": i,
                "status": EnrolmentStatus.WITHDRAWN if n % 10 == 9 else EnrolmentStatus.ACTIVE,
                "funding": FUNDING[n % len(FUNDING)],
                "enrolled_dt": now,
            }
            for n, i in enumerate(ids)
        ],
    )
    return ids


def add_attendance(offering_id: int, learner_ids: list[int], recorder_id: int) -> None:
    """A record at every meeting: present, late, left early, absent, excused or still signed in,
    each with its evidence (self check-in with a code, or the instructor's mark)."""
    now = datetime.now(UTC)
    meetings = list(db.session.scalars(select(Meeting).where(Meeting.offering_id == offering_id)))
    rows = []
    for n, user_id in enumerate(learner_ids):
        for m, meeting in enumerate(meetings):
            kind = (n + m) % 7
            status, arrived, departed = AttendanceStatus.PRESENT, meeting.start_dt, meeting.end_dt
            if kind == 1:
                status, arrived = AttendanceStatus.LATE, meeting.start_dt + timedelta(minutes=10 + n % 30)
            elif kind == 2:
                status, departed = AttendanceStatus.LEFT_EARLY, meeting.end_dt - timedelta(minutes=25)
            elif kind == 3:
                status, arrived, departed = AttendanceStatus.ABSENT, None, None
            elif kind == 4:
                status, arrived, departed = AttendanceStatus.EXCUSED, None, None
            elif kind == 5:
                departed = None  # signed in, never signed out
            code = kind in (0, 5)
            rows.append(
                {
                    "meeting_id": meeting.id,
                    "user_id": user_id,
                    "status": status,
                    "arrived_dt": arrived,
                    "departed_dt": departed,
                    "method": AttendanceMethod.CODE if code else AttendanceMethod.INSTRUCTOR,
                    "code_used": "123456" if code else None,
                    "ip_address": "127.0.0.1" if code else None,
                    "recorded_by_id": user_id if code else recorder_id,
                    "created_dt": now,
                    "updated_dt": now,
                }
            )
    record_ids = _insert_returning_ids(AttendanceRecord, rows)
    _insert(
        AttendanceEvidence,
        [
            {
                "record_id": record_id,
                "kind": EvidenceKind.SIGN_IN if row["method"] is AttendanceMethod.CODE else EvidenceKind.MARK,
                "method": row["method"],
                "at_dt": now,
                "code_used": row["code_used"],
                "ip_address": row["ip_address"],
                "actor_id": row["recorded_by_id"],
            }
            for record_id, row in zip(record_ids, rows, strict=True)
        ],
    )


def add_work(offering: Offering, learner_ids: list[int], instructor_ids: list[int]) -> None:
    """Readings, exercise responses (drafts, private and shared, with revisions and feedback from
    each instructor), quiz attempts (one to three), evaluations and attestations."""
    now = datetime.now(UTC)
    readings = _current(Reading, offering.course_id)
    exercises = _current(Exercise, offering.course_id)
    quizzes = _current(Quiz, offering.course_id)
    _insert(
        ReadingCompletion,
        [
            {
                "user_id": u,
                "offering_id": offering.id,
                "reading_key": r.key,
                "reading_id": r.id,
                "completed_dt": now,
            }
            for n, u in enumerate(learner_ids)
            for k, r in enumerate(readings)
            if (n + k) % 5
        ],
    )
    response_rows = [
        {
            "user_id": u,
            "offering_id": offering.id,
            "exercise_key": e.key,
            "exercise_id": e.id,
            "body": f"Response {n}-{k} about serve and return.",
            "body_html": f"<p>Response {n}-{k} about serve and return.</p>",
            "status": ResponseStatus.DRAFT if (n + k) % 4 == 3 else ResponseStatus.SUBMITTED,
            "is_shared": (n + k) % 2 == 0,
            "revision": 2,
            "created_dt": now,
            "updated_dt": now,
            "submitted_dt": None if (n + k) % 4 == 3 else now,
        }
        for n, u in enumerate(learner_ids)
        for k, e in enumerate(exercises)
    ]
    response_ids = _insert_returning_ids(ExerciseResponse, response_rows)
    _insert(
        ExerciseResponseRevision,
        [
            {
                "response_id": rid,
                "revision": revision,
                "body": row["body"],
                "status": row["status"],
                "is_shared": row["is_shared"],
                "exercise_id": row["exercise_id"],
                "saved_dt": now,
            }
            for rid, row in zip(response_ids, response_rows, strict=True)
            for revision in (1, 2)
        ],
    )
    _insert(
        ResponseFeedback,
        [
            {
                "response_id": rid,
                "author_id": author,
                "body_html": "<p>Thank you: notice the <em>pause</em>.</p>",
                "created_dt": now,
            }
            for rid, row in zip(response_ids, response_rows, strict=True)
            if row["is_shared"] and row["status"] is ResponseStatus.SUBMITTED
            for author in instructor_ids
        ],
    )
    _insert(
        QuizAttempt,
        [
            {
                "user_id": u,
                "offering_id": offering.id,
                "quiz_key": q.key,
                "quiz_id": q.id,
                "attempt_no": attempt,
                "answers": {},
                "points": 6 if attempt == tries else 2,
                "max_points": 6,
                "percent": 100 if attempt == tries else 33,
                "passed": attempt == tries,
                "submitted_dt": now,
            }
            for n, u in enumerate(learner_ids)
            for k, q in enumerate(quizzes)
            for tries in [1 + (n + k) % 3]
            for attempt in range(1, tries + 1)
        ],
    )
    evaluated = [u for n, u in enumerate(learner_ids) if n % 4]
    _insert(
        EvaluationReceipt,
        [{"offering_id": offering.id, "user_id": u, "submitted_dt": now} for u in evaluated],
    )
    _insert(
        EvaluationAnswer,
        [
            {
                "offering_id": offering.id,
                "ratings": {"objectives_met": 1 + n % 5, "instructors": 5, "relevance": 4},
                "comments": f"Comment {n}" if n % 2 else None,
                "submitted_on": now.date(),
            }
            for n, _u in enumerate(evaluated)
        ],
    )
    _insert(
        Attestation,
        [
            {
                "offering_id": offering.id,
                "user_id": u,
                "statement": "I attest that the attendance recorded for me is accurate.",
                "ce_minutes_shown": 900 + n,
                "attested_dt": now,
            }
            for n, u in enumerate(evaluated)
        ],
    )


def add_certificates(offering_id: int, learner_ids: list[int], template: Certificate, issuer_id: int) -> None:
    """Certificates for most learners, copied from ``template``: valid, superseded then valid, or revoked."""
    now = datetime.now(UTC)
    rows = []
    for n, user_id in enumerate(learner_ids):
        shape = n % 4
        if shape == 3:
            continue  # no certificate yet
        statuses = {
            0: [CertificateStatus.VALID],
            1: [CertificateStatus.SUPERSEDED, CertificateStatus.VALID],
            2: [CertificateStatus.REVOKED],
        }[shape]
        for version, status in enumerate(statuses, start=1):
            facts = {**template.facts, "certificate_id": f"GROWN-{offering_id}-{user_id}-{version}"}
            rows.append(
                {
                    "public_id": facts["certificate_id"],
                    "offering_id": offering_id,
                    "user_id": user_id,
                    "version": version,
                    "kind": template.kind,
                    "facts": facts,
                    "facts_hash": template.facts_hash,
                    "pdf": template.pdf,
                    "status": status,
                    "issued_dt": now,
                    "issued_by_id": issuer_id,
                    "revoked_dt": now if status is CertificateStatus.REVOKED else None,
                    "revoked_reason": "Issued in error" if status is CertificateStatus.REVOKED else None,
                }
            )
    _insert(Certificate, rows)


def add_audit_events(count: int, actor_ids: list[int], meeting_id: int, learner_ids: list[int]) -> None:
    """``count`` audit events (through the hash chain) by several people: attendance marks and
    corrections of records at ``meeting_id`` (its roster shows their history) and funding changes."""
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(actor_ids)))}
    records = list(
        db.session.scalars(
            select(AttendanceRecord).where(
                AttendanceRecord.meeting_id == meeting_id, AttendanceRecord.user_id.in_(learner_ids)
            )
        )
    )
    for n in range(count):
        actor = Actor(user=users[actor_ids[n % len(actor_ids)]], role="instructor", ip_address="127.0.0.1")
        record = records[n % len(records)]
        after = {**snapshot(record), "method": AttendanceMethod.INSTRUCTOR.value}
        if n % 3 == 0:
            record_event(actor, "attendance.mark", "attendance", record.id, after=after)
        elif n % 3 == 1:
            before = {"status": AttendanceStatus.ABSENT.value, "arrived": None, "departed": None}
            record_event(
                actor,
                "attendance.correct",
                "attendance",
                record.id,
                before=before,
                after=after,
                reason="Typo",
            )
        else:
            record_event(
                actor,
                "enrolment.funding",
                "enrolment",
                record.user_id,
                learner_id=record.user_id,
                before={"funding": Funding.FULL_FEE.value},
                after={"funding": Funding.GRANT_FUNDED.value},
                reason="Grant approved",
            )


def author_content(instructor_id: int, round_no: int) -> None:
    """In session 1: a new published exercise, a new version of the first exercise, one more quiz
    question (a new quiz version, so earlier attempts point at an older version)."""
    actor = Actor(user=db.session.get(User, instructor_id), role=Role.INSTRUCTOR.value)
    session = db.session.scalar(select(CourseSession).where(CourseSession.number == 1))
    exercise = create_exercise(
        actor,
        session,
        ExerciseDraft(
            title=f"Grown exercise {round_no}",
            kind="reflective",
            estimated_minutes=5,
            instructions="Notice one *pause* this week.",
        ),
    )
    set_published(actor, exercise, True)
    first = exercise_for(1)
    edit_exercise(
        actor,
        first,
        ExerciseDraft(
            title=first.title,
            kind=first.kind,
            estimated_minutes=first.estimated_minutes + 1,
            instructions=f"Edited instructions, round {round_no}.",
        ),
    )
    add_question(
        actor,
        session_quiz(session),
        QuestionDraft(
            kind="single",
            prompt=f"Grown question {round_no}?",
            options=[OptionDraft("Yes", True, "Right."), OptionDraft("No", False, "Not quite.")],
        ),
    )


def assign_instructor(offering_id: int, email: str, name: str) -> User:
    """An instructor (created if new, without a password) who also teaches the offering."""
    user = find_user(email) or create_user(
        Actor.system(), email=email, full_name=name, roles=[Role.INSTRUCTOR], password=None
    )
    assigned = db.session.scalar(
        select(InstructorAssignment.id).where(
            InstructorAssignment.offering_id == offering_id, InstructorAssignment.user_id == user.id
        )
    )
    if assigned is None:
        db.session.add(InstructorAssignment(offering_id=offering_id, user_id=user.id))
        db.session.flush()
    return user


def grow(world: World, *, learners: int, rounds: int) -> None:
    """Add data of every kind the pages show, then end the session.

    ``learners`` more learners in the demo offering with a term of records and certificates, and
    ``rounds`` times: another offering the instructor co-teaches (meetings, a few learners, the
    learner among them), a reissue of the learner's certificate, another instructor of the demo
    offering, another shared response of the learner's with feedback from every instructor, another
    attempt of the learner's at two quizzes, authored content, a closed check-in window, audit events.
    """
    offering = db.session.get(Offering, world.offering_id)
    co = assign_instructor(offering.id, CO_INSTRUCTOR, "Cora Co")
    instructors = [world.instructor_id, co.id]
    coordinator = find_user(EMAILS["coordinator"])
    template = db.session.scalar(
        select(Certificate).where(Certificate.public_id == world.values["public_id"])
    )

    ids = add_learners(world, offering.id, learners)
    add_attendance(offering.id, ids, world.instructor_id)
    add_work(offering, ids, instructors)
    add_certificates(offering.id, ids, template, coordinator.id)
    db.session.commit()

    meetings = sorted(offering.meetings, key=lambda m: m.start_dt)
    learner = db.session.get(User, world.learner_id)
    for _ in range(rounds):
        round_no = world.grown  # unique per call
        guest = assign_instructor(offering.id, f"guest{round_no}@example.org", f"Guest Instructor {round_no}")
        other = new_offering((world.instructor_id, co.id), meetings=True)
        few = add_learners(world, other.id, 3)
        db.session.add(Enrolment(offering_id=other.id, user_id=world.learner_id, funding=Funding.SCHOLARSHIP))
        db.session.flush()
        add_attendance(other.id, [*few, world.learner_id], world.instructor_id)
        add_work(other, few, instructors)

        valid = db.session.scalar(
            select(Certificate).where(Certificate.public_id == world.values["public_id"])
        )
        with current_app.test_request_context():  # the certificate's verification link is absolute
            reissue_certificate(Actor(user=coordinator, role="coordinator"), valid, "Name corrected")
        db.session.flush()
        refresh_values(world)

        number = 2 + (round_no % 10)
        exercise = exercise_for(number)
        if (
            db.session.scalar(
                select(ExerciseResponse.id).where(
                    ExerciseResponse.user_id == learner.id,
                    ExerciseResponse.offering_id == offering.id,
                    ExerciseResponse.exercise_key == exercise.key,
                )
            )
            is None
        ):
            make_response(learner.id, offering.id, exercise)
        shared = db.session.scalars(
            select(ExerciseResponse.id).where(
                ExerciseResponse.user_id == learner.id, ExerciseResponse.offering_id == offering.id
            )
        ).all()
        _insert(
            ResponseFeedback,
            [
                {"response_id": rid, "author_id": author, "body_html": "<p>Lovely.</p>"}
                for rid in shared
                for author in [*instructors, guest.id]
            ],
        )
        for quiz in (quiz_for(1), quiz_for(number)):  # the measured quiz page is session 1's
            tries = db.session.scalar(
                select(func.max(QuizAttempt.attempt_no)).where(
                    QuizAttempt.user_id == learner.id,
                    QuizAttempt.offering_id == offering.id,
                    QuizAttempt.quiz_key == quiz.key,
                )
            )
            db.session.add(
                QuizAttempt(
                    user_id=learner.id,
                    offering_id=offering.id,
                    quiz_key=quiz.key,
                    quiz_id=quiz.id,
                    attempt_no=(tries or 0) + 1,
                    answers={},
                    points=0,
                    max_points=6,
                    percent=0,
                    passed=False,
                )
            )
            db.session.flush()
        author_content(world.instructor_id, round_no)
        meeting = meetings[round_no % len(meetings)]
        if db.session.scalar(select(CheckInWindow.id).where(CheckInWindow.meeting_id == meeting.id)) is None:
            db.session.add(
                CheckInWindow(meeting_id=meeting.id, secret="grown", closed_dt=meeting.end_dt)  # noqa: S106
            )
        add_audit_events(
            20, [coordinator.id, world.instructor_id, co.id], meetings[0].id, [*ids, world.learner_id]
        )
        db.session.commit()
    db.session.remove()
