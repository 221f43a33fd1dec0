"""Crediting a live online meeting from its participant report: preview, apply, corrections, audit."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceEvidence,
    AttendanceMethod,
    AttendanceRecord,
    AuditEvent,
    EvidenceKind,
    ParticipantAlias,
    ParticipantImport,
    ReportFile,
)
from imh_course.operations.attendance import AttendanceError, mark, needs_departure
from imh_course.operations.participant_import import AlreadyApplied, apply_import
from imh_course.operations.participant_preview import preview_import
from imh_course.records.ledgers import credit_policy
from imh_course.rules.credit import AttendanceStatus
from tests.integration.participant_helpers import START, class_report, online_meeting
from tests.integration.test_attendance import actor, count, events, record_of
from tests.unit.rules.report_files import zoom_csv


@pytest.fixture
def meeting(demo):
    return online_meeting(demo.offering_id)


def _policy(app):
    return credit_policy(app.config)


def _writes() -> tuple[int, int, int, int]:
    return (
        count(AttendanceRecord),
        count(AttendanceEvidence),
        count(AuditEvent),
        count(ParticipantImport),
    )


def test_preview_matches_by_email_lists_staff_guests_and_unmatched_and_writes_nothing(app, demo, meeting):
    before = _writes()
    preview = preview_import(meeting, class_report(), "zoom.csv", _policy(app))
    assert _writes() == before
    assert preview.report.platform == "Zoom"
    by_id = {c.user_id: c for c in preview.learners}
    lcsw, lmhc = by_id[demo.lcsw_id], by_id[demo.lmhc_id]
    assert (lcsw.credit.attended, lcsw.credit.credited) == (40 + 40, 75)  # rejoined, clipped at 13:30
    assert (lmhc.credit.attended, lmhc.credit.credited) == (90, 90)  # two devices count once
    assert lcsw.change == lmhc.change == "new"
    assert [p.name for p in preview.staff] == ["Ines Instructor"]
    assert {(p.name, p.guest, p.minutes) for p in preview.unmatched} == {
        ("Visitor", True, 30),
        ("Galaxy S22", True, 75),
    }
    assert "Nia Nurse" in preview.not_in_report


def test_apply_records_evidence_file_and_audit_in_one_go(app, demo, meeting):
    raw = class_report()
    result = apply_import(actor("instructor@example.org"), meeting, raw, "zoom.csv", _policy(app))
    db.session.commit()
    assert (result.created, result.corrected) == (2, 0)
    record = record_of(meeting.id, demo.lcsw_id)
    assert record.method is AttendanceMethod.VIDEO_REPORT
    assert record.status is AttendanceStatus.LEFT_EARLY
    assert record.arrived_dt == START and record.departed_dt == datetime(2026, 12, 1, 18, 20, tzinfo=UTC)
    (evidence,) = db.session.scalars(
        select(AttendanceEvidence).where(AttendanceEvidence.record_id == record.id)
    ).all()
    sha = hashlib.sha256(raw).hexdigest()
    assert evidence.kind is EvidenceKind.MARK and evidence.method is AttendanceMethod.VIDEO_REPORT
    assert evidence.report_import.sha256 == sha and evidence.report_import.file_name == "zoom.csv"
    assert evidence.report_detail["intervals"] == [
        ["2026-12-01T16:55:00+00:00", "2026-12-01T17:40:00+00:00"],
        ["2026-12-01T17:50:00+00:00", "2026-12-01T18:31:00+00:00"],
    ]
    assert evidence.report_detail["credited_minutes"] == 75
    assert db.session.get(ReportFile, sha).content == raw  # the original, content-addressed
    marks = [e for e in events("attendance.mark") if e.after.get("method") == "video_report"]
    assert {e.learner_id for e in marks} == {demo.lcsw_id, demo.lmhc_id}
    assert all(e.after["report_sha256"] == sha for e in marks)
    (imported,) = events("attendance.report_import")
    assert imported.after["ignored"] == ["Visitor", "Galaxy S22"]
    assert imported.after["staff"] == ["Ines Instructor"]


def test_the_same_file_again_changes_nothing(app, demo, meeting):
    raw = class_report()
    apply_import(actor("instructor@example.org"), meeting, raw, "zoom.csv", _policy(app))
    db.session.commit()
    before = _writes()
    assert preview_import(meeting, raw, "again.csv", _policy(app)).already_applied is not None
    with pytest.raises(AlreadyApplied, match="already applied"):
        apply_import(actor("coordinator@example.org"), meeting, raw, "again.csv", _policy(app))
    db.session.rollback()
    assert _writes() == before


def test_an_existing_mark_changes_only_as_a_correction_with_the_reason(app, demo, meeting):
    staff = actor("instructor@example.org")
    mark(staff, meeting, record_learner(demo.lcsw_id), AttendanceStatus.PRESENT, None, None)
    mark(staff, meeting, record_learner(demo.lmhc_id), AttendanceStatus.PRESENT, None, None)
    db.session.commit()
    before = _writes()
    with pytest.raises(AttendanceError, match="1 of these learners already had a mark"):
        apply_import(staff, meeting, class_report(), "zoom.csv", _policy(app))
    db.session.rollback()
    assert _writes() == before
    result = apply_import(
        staff, meeting, class_report(), "zoom.csv", _policy(app), reason="Zoom report: left 12:40-12:50"
    )
    db.session.commit()
    assert (result.created, result.corrected, result.unchanged) == (0, 1, 1)
    (correction,) = [e for e in events("attendance.correct") if e.learner_id == demo.lcsw_id]
    assert correction.reason == "Zoom report: left 12:40-12:50"
    assert correction.before["status"] == "present" and correction.after["status"] == "left_early"
    kinds = {
        e.record.user_id: e.kind
        for e in db.session.scalars(
            select(AttendanceEvidence).where(AttendanceEvidence.report_import_id.is_not(None))
        )
    }
    assert kinds == {demo.lcsw_id: EvidenceKind.CORRECTION, demo.lmhc_id: EvidenceKind.REPORT}


def record_learner(user_id: int):
    from imh_course.models import User

    return db.session.get(User, user_id)


def test_a_match_by_hand_is_remembered_for_the_next_meeting(app, demo, meeting):
    staff = actor("instructor@example.org")
    preview = preview_import(meeting, class_report(), "zoom.csv", _policy(app))
    phone = next(p for p in preview.unmatched if p.name == "Galaxy S22")
    chosen = {phone.key: demo.nurse_id}
    apply_import(staff, meeting, class_report(), "zoom.csv", _policy(app), chosen, frozenset({phone.key}))
    db.session.commit()
    nurse = record_of(meeting.id, demo.nurse_id)
    assert nurse.method is AttendanceMethod.VIDEO_REPORT and nurse.status is AttendanceStatus.LATE
    alias = db.session.scalar(select(ParticipantAlias))
    assert (alias.name_key, alias.user_id) == ("galaxy s22", demo.nurse_id)
    assert events("participant_alias.remember")[0].after["name"] == "Galaxy S22"
    later = online_meeting(
        demo.offering_id,
        11,
        datetime(2026, 11, 24, 17, 0, tzinfo=UTC),
        datetime(2026, 11, 24, 18, 30, tzinfo=UTC),
    )
    again = preview_import(later, class_report("11/24/2026"), "week0.csv", _policy(app))
    nurse_change = next(c for c in again.learners if c.user_id == demo.nurse_id)
    assert nurse_change.participants[0].matched_by == "remembered"
    assert nurse_change.credit.credited == 75


def test_a_report_of_another_date_a_malformed_file_and_a_future_meeting_are_refused(app, demo, meeting):
    before = _writes()
    with pytest.raises(AttendanceError, match="another meeting.*Dec 8, 2026"):
        preview_import(meeting, class_report("12/08/2026"), "zoom.csv", _policy(app))
    with pytest.raises(AttendanceError, match="cannot be read: No participants table"):
        apply_import(actor("instructor@example.org"), meeting, b"a,b\n1,2\n", "x.csv", _policy(app))
    db.session.rollback()
    future = online_meeting(
        demo.offering_id, 9, datetime(2099, 1, 6, 17, 0, tzinfo=UTC), datetime(2099, 1, 6, 18, 30, tzinfo=UTC)
    )
    with pytest.raises(AttendanceError, match="not started"):
        preview_import(future, class_report(), "zoom.csv", _policy(app))
    assert _writes() == before


def test_a_learner_who_never_left_is_flagged_not_credited(app, demo, meeting):
    raw = (
        b"Name (original name),User Email,Join time,Leave time\n"
        b"Casey Social,lcsw@example.org,12/01/2026 12:05:00 PM,\n"
    )
    apply_import(actor("instructor@example.org"), meeting, raw, "live.csv", _policy(app))
    db.session.commit()
    record = record_of(meeting.id, demo.lcsw_id)
    assert record.arrived_dt == datetime(2026, 12, 1, 17, 5, tzinfo=UTC) and record.departed_dt is None
    assert needs_departure(record)  # the roster flags it until staff record the departure


def test_instructors_of_other_offerings_cannot_apply(app, demo, meeting, make_user):
    from imh_course.models.audit_chain import Actor
    from imh_course.security.roles import Role

    other = make_user(Role.INSTRUCTOR, email="else@example.org")
    with pytest.raises(AttendanceError, match="do not take attendance"):
        apply_import(Actor(other, Role.INSTRUCTOR.value), meeting, zoom_csv(), "z.csv", _policy(app))
    db.session.rollback()


def test_the_learners_data_export_carries_the_report_evidence(app, demo, meeting):
    from imh_course.models import User
    from imh_course.reports.learner_export import learner_data

    apply_import(actor("instructor@example.org"), meeting, class_report(), "zoom.csv", _policy(app))
    db.session.commit()
    data = learner_data(db.session.get(User, demo.lcsw_id), include_response_text=False)
    (entry,) = [a for a in data["attendance"] if a["method"] == "video_report"]
    (evidence,) = entry["evidence"]
    assert evidence["participant_report"]["file"] == "zoom.csv"
    assert evidence["participant_report"]["attended_minutes"] == 80
