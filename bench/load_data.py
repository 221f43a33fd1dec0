"""What the load test reads from its database: the plan before (who signs in, which reading,
exercise and quiz, the quiz's right and wrong answers) and the check after (exactly one write per
learner where a duplicate was sent; attempts 1 failed, 2 passed).
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.load_server import DATABASE_URL


@dataclass(frozen=True)
class Plan:
    offering_id: int
    session_number: int
    reading_key: str
    exercise_key: str
    quiz_key: str
    right: list[tuple[str, str]]
    wrong: list[tuple[str, str]]
    throughput_emails: list[str]
    throughput_offering: int


def make_plan(journey_offering: int, connections: int) -> Plan:
    from sqlalchemy import func, select

    from app import create_app
    from imh_course.extensions import db
    from imh_course.models import CourseSession, Enrolment, Exercise, Quiz, Reading, User

    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    with app.app_context():
        session = db.session.scalar(select(CourseSession).order_by(CourseSession.number).limit(1))

        def first(model):  # noqa: ANN001, ANN202
            return db.session.scalar(
                select(model)
                .where(
                    model.session_id == session.id, model.is_current.is_(True), model.is_published.is_(True)
                )
                .order_by(model.id)
                .limit(1)
            )

        reading, exercise, quiz = first(Reading), first(Exercise), first(Quiz)
        right: list[tuple[str, str]] = []
        wrong: list[tuple[str, str]] = []
        for question in quiz.questions:
            correct = [o["id"] for o in question.options if o["correct"]]
            incorrect = [o["id"] for o in question.options if not o["correct"]]
            for option in correct if question.kind == "multiple" else correct[:1]:
                right.append((f"q_{question.key}", option))
            wrong.append((f"q_{question.key}", incorrect[0]))
        # throughput: learners of a 200-learner offering, each with a term of activity
        sized = (
            select(Enrolment.offering_id)
            .group_by(Enrolment.offering_id)
            .having(func.count() == 200)
            .order_by(Enrolment.offering_id)
            .limit(1)
        )
        offering = db.session.scalar(sized)
        emails = db.session.scalars(
            select(User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id == offering, User.email.like("bench-learner-%"))
            .order_by(User.id)
            .limit(connections)
        ).all()
        return Plan(journey_offering, session.number, reading.key, exercise.key, quiz.key, right, wrong,
                    list(emails), offering)  # fmt: skip


def verify(plan: Plan, emails: list[str]) -> dict:
    from sqlalchemy import func, select

    from app import create_app
    from imh_course.extensions import db
    from imh_course.models import ExerciseResponse, QuizAttempt, ReadingCompletion, User
    from imh_course.models.progress import ResponseStatus

    app = create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": DATABASE_URL})
    problems: list[str] = []
    with app.app_context():
        ids = dict(db.session.execute(select(User.email, User.id).where(User.email.in_(emails))).all())
        users = set(ids.values())
        completions = dict(
            db.session.execute(
                select(ReadingCompletion.user_id, func.count())
                .where(
                    ReadingCompletion.offering_id == plan.offering_id, ReadingCompletion.user_id.in_(users)
                )
                .group_by(ReadingCompletion.user_id)
            ).all()
        )
        responses = dict(
            db.session.execute(
                select(ExerciseResponse.user_id, func.count())
                .where(
                    ExerciseResponse.offering_id == plan.offering_id,
                    ExerciseResponse.user_id.in_(users),
                    ExerciseResponse.exercise_key == plan.exercise_key,
                    ExerciseResponse.status == ResponseStatus.SUBMITTED,
                )
                .group_by(ExerciseResponse.user_id)
            ).all()
        )
        attempts: dict[int, list[tuple[int, bool]]] = {}
        for user_id, number, passed in db.session.execute(
            select(QuizAttempt.user_id, QuizAttempt.attempt_no, QuizAttempt.passed)
            .where(QuizAttempt.offering_id == plan.offering_id, QuizAttempt.user_id.in_(users))
            .order_by(QuizAttempt.user_id, QuizAttempt.attempt_no)
        ):
            attempts.setdefault(user_id, []).append((number, passed))
        for email in emails:
            user = ids.get(email)
            if completions.get(user, 0) != 1:
                problems.append(f"{email}: {completions.get(user, 0)} reading completions (expected 1)")
            if responses.get(user, 0) != 1:
                problems.append(f"{email}: {responses.get(user, 0)} submitted responses (expected 1)")
            if attempts.get(user, []) != [(1, False), (2, True)]:
                problems.append(
                    f"{email}: attempts {attempts.get(user, [])} (expected [(1, False), (2, True)])"
                )
    return {
        "completions": sum(completions.values()),
        "responses": sum(responses.values()),
        "attempts": sum(len(v) for v in attempts.values()),
        "problems": problems,
    }
