"""A learner's own data as JSON: profile, enrolments, attendance, progress, attempts, certificates.

The learner's copy (``/learn/my-data.json``) includes the text of their exercise responses and the
feedback on them. The coordinator's copy omits that text: reflective responses are private to the
learner, and a coordinator sees completion status only (DOMAIN.md, records and privacy).
Evaluation answers are anonymous by design (no link to the person), so only the receipt appears.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import defer, selectinload

from ..extensions import db
from ..models.accounts import User
from ..models.attendance import AttendanceEvidence, AttendanceRecord
from ..models.certificates import Attestation, Certificate, EvaluationReceipt
from ..models.credentials import BadgeCredential
from ..models.curriculum import CourseSession, Reading
from ..models.offerings import Enrolment, Meeting, Offering
from ..models.progress import ExerciseResponse, ReadingCompletion
from ..models.quizzes import QuizAttempt
from ..models.types import utcnow
from .learner_hours import face_to_face_by_offering

FORMAT_VERSION = 1
PRIVATE_NOTE = (
    "The text of exercise responses is private to the learner and is not included in this copy; "
    "the learner can download it themselves from /learn/my-data.json."
)


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _profile(user: User) -> dict[str, Any] | None:
    p = user.profile
    if p is None:
        return None
    return {
        "certificate_name": p.certificate_name,
        "discipline": p.discipline,
        "license_type": p.license_type,
        "license_number": p.license_number,
        "license_state": p.license_state,
        "updated": _iso(p.updated_dt),
    }


def _attendance(user_id: int) -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(AttendanceRecord, Meeting.offering_id, Meeting.start_dt, CourseSession.number)
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .join(CourseSession, CourseSession.id == Meeting.session_id)
        .where(AttendanceRecord.user_id == user_id)
        .order_by(Meeting.start_dt)
    ).all()
    evidence: dict[int, list[dict[str, Any]]] = {}
    record_ids = [r.id for r, *_ in rows]
    if record_ids:
        for e in db.session.scalars(
            select(AttendanceEvidence)
            .where(AttendanceEvidence.record_id.in_(record_ids))
            .order_by(AttendanceEvidence.at_dt, AttendanceEvidence.id)
        ):
            evidence.setdefault(e.record_id, []).append(
                {
                    "kind": e.kind.value,
                    "method": e.method.value,
                    "at": _iso(e.at_dt),
                    "code_used": e.code_used,
                    "ip_address": e.ip_address,
                    # a video platform's participant report: file, sha256, lines, intervals, minutes
                    "participant_report": e.report_detail,
                }
            )
    return [
        {
            "offering_id": offering_id,
            "session": number,
            "meeting_start": _iso(start),
            "status": r.status.value,
            "arrived": _iso(r.arrived_dt),
            "departed": _iso(r.departed_dt),
            "method": r.method.value,
            "evidence": evidence.get(r.id, []),
        }
        for r, offering_id, start, number in rows
    ]


def _responses(user_id: int, include_text: bool) -> list[dict[str, Any]]:
    query = select(ExerciseResponse).where(ExerciseResponse.user_id == user_id).order_by(ExerciseResponse.id)
    if include_text:
        query = query.options(
            selectinload(ExerciseResponse.revisions), selectinload(ExerciseResponse.feedback)
        )
    else:
        query = query.options(defer(ExerciseResponse.body), defer(ExerciseResponse.body_html))
    out = []
    for r in db.session.scalars(query):
        item: dict[str, Any] = {
            "offering_id": r.offering_id,
            "exercise_key": r.exercise_key,
            "status": r.status.value,
            "shared_with_instructor": r.is_shared,
            "revisions": r.revision,
            "created": _iso(r.created_dt),
            "updated": _iso(r.updated_dt),
            "submitted": _iso(r.submitted_dt),
        }
        if include_text:
            item["text"] = r.body
            item["history"] = [
                {"revision": v.revision, "status": v.status.value, "saved": _iso(v.saved_dt), "text": v.body}
                for v in r.revisions
            ]
            item["feedback"] = [{"created": _iso(f.created_dt), "html": f.body_html} for f in r.feedback]
        out.append(item)
    return out


def learner_data(user: User, *, include_response_text: bool) -> dict[str, Any]:
    """Everything the module holds about ``user`` as a learner (a bounded number of queries)."""
    uid = user.id
    offerings = {
        o.id: o
        for o in db.session.scalars(
            select(Offering)
            .join(Enrolment, Enrolment.offering_id == Offering.id)
            .where(Enrolment.user_id == uid)
        )
    }
    enrolments = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == uid).order_by(Enrolment.id)
    ).all()
    profile = user.profile
    hours = face_to_face_by_offering(
        uid, profile.license_type if profile else None, (e.offering_id for e in enrolments)
    )
    readings = db.session.execute(
        select(ReadingCompletion, Reading.version)
        .join(Reading, Reading.id == ReadingCompletion.reading_id)
        .where(ReadingCompletion.user_id == uid)
        .order_by(ReadingCompletion.completed_dt)
    ).all()
    attempts = db.session.scalars(
        select(QuizAttempt)
        .where(QuizAttempt.user_id == uid)
        .order_by(QuizAttempt.submitted_dt, QuizAttempt.id)
    )
    receipts = db.session.scalars(select(EvaluationReceipt).where(EvaluationReceipt.user_id == uid))
    attestations = db.session.scalars(select(Attestation).where(Attestation.user_id == uid))
    certificates = db.session.scalars(
        select(Certificate)
        .where(Certificate.user_id == uid)
        .options(defer(Certificate.pdf))
        .order_by(Certificate.offering_id, Certificate.version)
    )
    credentials = db.session.execute(
        select(BadgeCredential, Certificate.public_id)
        .join(Certificate, Certificate.id == BadgeCredential.certificate_id)
        .where(Certificate.user_id == uid)
        .order_by(BadgeCredential.id)
    ).all()
    data: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "generated": _iso(utcnow()),
        "account": {
            "id": uid,
            "email": user.email,
            "full_name": user.full_name,
            "roles": sorted(r.value for r in user.role_set),
            "created": _iso(user.created_dt),
            "erased": _iso(user.erased_dt),
        },
        "profile": _profile(user),
        "enrolments": [
            {
                "offering_id": e.offering_id,
                "offering": offerings[e.offering_id].label if e.offering_id in offerings else None,
                "status": e.status.value,
                "funding": e.funding.value,
                "enrolled": _iso(e.enrolled_dt),
                # the face-to-face ledger as the learner's licence makes it: CE contact hours or not CE
                "face_to_face": hours.get(e.offering_id),
            }
            for e in enrolments
        ],
        "attendance": _attendance(uid),
        "reading_completions": [
            {
                "offering_id": c.offering_id,
                "reading_key": c.reading_key,
                "version": v,
                "completed": _iso(c.completed_dt),
            }
            for c, v in readings
        ],
        "exercise_responses": _responses(uid, include_response_text),
        "quiz_attempts": [
            {
                "offering_id": a.offering_id,
                "quiz_key": a.quiz_key,
                "attempt": a.attempt_no,
                "answers": a.answers,
                "points": a.points,
                "max_points": a.max_points,
                "percent": a.percent,
                "passed": a.passed,
                "submitted": _iso(a.submitted_dt),
            }
            for a in attempts
        ],
        "evaluations_submitted": [
            {"offering_id": r.offering_id, "submitted": _iso(r.submitted_dt)} for r in receipts
        ],
        "attestations": [
            {
                "offering_id": a.offering_id,
                "statement": a.statement,
                "ce_minutes_shown": a.ce_minutes_shown,
                "attested": _iso(a.attested_dt),
            }
            for a in attestations
        ],
        "certificates": [
            {
                "certificate_id": c.public_id,
                "offering_id": c.offering_id,
                "version": c.version,
                "kind": c.kind.value,
                "status": c.status.value,
                "issued": _iso(c.issued_dt),
                "revoked": _iso(c.revoked_dt),
                "revoked_reason": c.revoked_reason,
                "facts": c.facts,
                "facts_hash": c.facts_hash,
            }
            for c in certificates
        ],
        # the signed Open Badges credentials issued from those certificates, as downloaded
        "credentials": [
            {
                "credential_id": b.credential_id,
                "certificate_id": public_id,
                "status_list_index": b.status_index,
                "issued": _iso(b.issued_dt),
                "token": b.token,
            }
            for b, public_id in credentials
        ],
    }
    if not include_response_text:
        data["note"] = PRIVATE_NOTE
    return data
