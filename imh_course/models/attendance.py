"""Attendance at meetings: the only source of CE contact hours."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rules.credit import AttendanceStatus
from .accounts import User
from .offerings import Meeting
from .types import UTCDateTime, enum_column, utcnow


class AttendanceMethod(StrEnum):
    CODE = "code"  # learner self check-in with the code shown in the room
    INSTRUCTOR = "instructor"
    COORDINATOR = "coordinator"  # a correction


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
