"""Helpers for the certificate tests: attendance rows, finished independent work, PDF reading.

Attendance records are created directly (the attendance UI is built elsewhere); independent work
goes through the real operations so the ledgers see exactly what a learner's clicks produce.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import timedelta

import segno
from pypdf import PdfReader
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceMethod,
    AttendanceRecord,
    CourseSession,
    Meeting,
    Offering,
    Quiz,
    Reading,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.operations.progress import mark_reading_complete
from imh_course.operations.quizzes import submit_attempt
from imh_course.records.ledgers import credit_policy, learner_ledger
from imh_course.rules.credit import AttendanceStatus

GOOD_RATINGS = {"objectives_met": "5", "instructors": "4", "relevance": "5"}


def meetings_of(offering_id: int) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting).where(Meeting.offering_id == offering_id).order_by(Meeting.start_dt)
        )
    )


def attend(
    offering_id: int, user_id: int, count: int, *, late: Mapping[int, int] | None = None
) -> list[AttendanceRecord]:
    """Records for the first ``count`` meetings: present for the whole meeting, or ``late[i]``
    minutes late at meeting index ``i`` (leaving at the end). Commits."""
    late = late or {}
    records = []
    for index, meeting in enumerate(meetings_of(offering_id)[:count]):
        minutes_late = late.get(index, 0)
        record = AttendanceRecord(
            meeting_id=meeting.id,
            user_id=user_id,
            status=AttendanceStatus.LATE if minutes_late else AttendanceStatus.PRESENT,
            arrived_dt=meeting.start_dt + timedelta(minutes=minutes_late),
            departed_dt=meeting.end_dt,
            method=AttendanceMethod.INSTRUCTOR,
        )
        db.session.add(record)
        records.append(record)
    db.session.commit()
    return records


def finish_independent_work(offering_id: int, user_id: int) -> None:
    """Mark every current reading complete and pass every current quiz (first attempt). Commits."""
    offering = db.session.get(Offering, offering_id)
    actor = Actor(user=db.session.get(User, user_id), role="learner")

    def current(model):  # noqa: ANN001, ANN202
        return db.session.scalars(
            select(model)
            .join(CourseSession, model.session_id == CourseSession.id)
            .where(
                CourseSession.course_id == offering.course_id,
                model.is_current.is_(True),
                model.is_published.is_(True),
            )
        ).all()

    for reading in current(Reading):
        mark_reading_complete(actor, offering, reading)
    for quiz in current(Quiz):
        answers = {
            q.key: [o["id"] for o in q.options if o["correct"]][: None if q.kind == "multiple" else 1]
            for q in quiz.questions
        }
        assert submit_attempt(actor, offering, quiz, 1, answers).attempt.passed
    db.session.commit()


def ce_minutes(app, offering_id: int, user_id: int) -> int:  # noqa: ANN001
    offering = db.session.get(Offering, offering_id)
    return learner_ledger(offering, user_id, credit_policy(app.config)).ce_minutes


def evaluate(client, offering_id: int, **extra: str):  # noqa: ANN001, ANN201
    """Submit the evaluation as the signed-in learner."""
    return client.post(f"/learn/offerings/{offering_id}/evaluation", data={**GOOD_RATINGS, **extra})


def attest(client, app, offering_id: int, user_id: int):  # noqa: ANN001, ANN201
    """Attest the CE minutes currently recorded, as the signed-in learner."""
    minutes = ce_minutes(app, offering_id, user_id)
    return client.post(
        f"/learn/offerings/{offering_id}/attest", data={"confirm": "y", "ce_minutes": str(minutes)}
    )


def norm(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    """The whole text of a PDF, whitespace collapsed."""
    reader = PdfReader(io.BytesIO(data))
    return norm(" ".join(page.extract_text() for page in reader.pages))


def qr_payload_matches(data: bytes, url: str) -> bool:
    """True when the certificate's only image is a QR code of exactly ``url`` (module by module)."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    image = page.images[0].image.convert("L")
    matrix = segno.make(url, error="m", micro=False).matrix
    modules = len(matrix) + 8
    if image.width != image.height or image.width % modules:
        return False
    scale = image.width // modules
    decoded = [
        [
            image.getpixel(((col + 4) * scale + scale // 2, (row + 4) * scale + scale // 2)) < 128
            for col in range(len(matrix))
        ]
        for row in range(len(matrix))
    ]
    return decoded == [[bool(cell) for cell in row] for row in matrix]


def link_targets(data: bytes) -> set[str]:
    """URIs of the link annotations on the first page."""
    page = PdfReader(io.BytesIO(data)).pages[0]
    targets = set()
    for annot in page.get("/Annots") or []:
        action = annot.get_object().get("/A")
        if action is not None and "/URI" in action:
            targets.add(str(action["/URI"]))
    return targets
