"""Attendance at meetings: the only source of CE contact hours."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rules.credit import AttendanceStatus
from .accounts import User
from .offerings import Meeting
from .participant_reports import ParticipantImport
from .types import UTCDateTime, enum_column, utcnow


class AttendanceMethod(StrEnum):
    CODE = "code"  # learner self check-in with the code shown in the room
    INSTRUCTOR = "instructor"
    COORDINATOR = "coordinator"  # a correction
    VIDEO_REPORT = "video_report"  # a video platform's participant report (live online)


class AttendanceRecord(db.Model):
    __tablename__ = "imh_attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("imh_meeting.id"), nullable=False, index=True)
    #: the learner
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: present, late, left_early, absent, excused
    status: Mapped[AttendanceStatus] = mapped_column(enum_column(AttendanceStatus), nullable=False)
    #: sign-in or recorded arrival (UTC)
    arrived_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: sign-out or recorded departure (UTC); NULL credits nothing until recorded
    departed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: how the latest change was made
    method: Mapped[AttendanceMethod] = mapped_column(enum_column(AttendanceMethod), nullable=False)
    #: the check-in code the learner entered (evidence)
    code_used: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: client address at check-in (evidence)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: who recorded the latest change
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<AttendanceRecord m{self.meeting_id} u{self.user_id} {self.status}>"


class EvidenceKind(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    MARK = "mark"  # an instructor's mark
    CORRECTION = "correction"  # a later change, with a reason in the audit trail
    REPORT = "report"  # a participant report that confirms the record as it was


class AttendanceEvidence(db.Model):
    """Append-only evidence behind an attendance record: how, when, with which code, from where."""

    __tablename__ = "imh_attendance_evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("imh_attendance.id"), nullable=False, index=True)
    kind: Mapped[EvidenceKind] = mapped_column(enum_column(EvidenceKind), nullable=False)
    method: Mapped[AttendanceMethod] = mapped_column(enum_column(AttendanceMethod), nullable=False)
    #: server time of the event (UTC)
    at_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: the check-in code entered, for self check-in
    code_used: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ip_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: who acted (the learner for self check-in)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    #: the participant report import this evidence comes from (file name and sha256 there)
    report_import_id: Mapped[int | None] = mapped_column(
        # named here: the convention's name is longer than PostgreSQL's 63-character limit
        ForeignKey("imh_participant_import.id", name="fk_imh_attendance_evidence_report_import"),
        nullable=True,
        index=True,
    )
    #: from a report: the learner's merged intervals, attended and credited minutes
    report_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    record: Mapped[AttendanceRecord] = relationship()
    report_import: Mapped[ParticipantImport | None] = relationship()

    def __repr__(self) -> str:
        return f"<AttendanceEvidence {self.record_id} {self.kind}>"


class CheckInWindow(db.Model):
    """Self check-in for one meeting: open while ``closed_dt`` is NULL; codes derive from ``secret``."""

    __tablename__ = "imh_checkin_window"
    __table_args__ = (UniqueConstraint("meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("imh_meeting.id"), nullable=False)
    #: random key from which the rotating short codes are derived (never shown)
    secret: Mapped[str] = mapped_column(String(64), nullable=False)
    #: when check-in was (last) opened (UTC)
    opened_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: when it was closed; NULL while open
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)

    meeting: Mapped[Meeting] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_dt is None

    def __repr__(self) -> str:
        return f"<CheckInWindow m{self.meeting_id} {'open' if self.is_open else 'closed'}>"
