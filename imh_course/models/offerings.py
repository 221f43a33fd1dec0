"""Offerings (cohorts), their board approvals, meetings, enrolments and instructors."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rules.licenses import Board
from .accounts import User
from .curriculum import Course, CourseSession, new_content_revision
from .types import UTCDateTime, enum_column, utcnow


class Term(StrEnum):
    SPRING = "spring"
    SUMMER = "summer"
    FALL = "fall"


class DeliveryFormat(StrEnum):
    IN_PERSON = "in_person"
    LIVE_ONLINE = "live_online"


FORMAT_LABELS = {DeliveryFormat.IN_PERSON: "In person", DeliveryFormat.LIVE_ONLINE: "Live online"}


class EnrolmentStatus(StrEnum):
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


class Funding(StrEnum):
    FULL_FEE = "full_fee"
    GRANT_FUNDED = "grant_funded"
    SCHOLARSHIP = "scholarship"
    GROUP_RATE = "group_rate"
    WAIVED = "waived"


#: The words coordinators use for each funding type: forms, pages, exports and roster messages.
FUNDING_LABELS = {
    Funding.FULL_FEE: "Full fee",
    Funding.GRANT_FUNDED: "Grant-funded",
    Funding.SCHOLARSHIP: "Scholarship",
    Funding.GROUP_RATE: "Group rate",
    Funding.WAIVED: "Waived",
}


class Offering(db.Model):
    __tablename__ = "imh_offering"
    __table_args__ = (
        UniqueConstraint("course_id", "term", "year"),
        CheckConstraint("year >= 2000 AND year <= 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the course being offered
    course_id: Mapped[int] = mapped_column(ForeignKey("imh_course.id"), nullable=False)
    #: spring, summer or fall
    term: Mapped[Term] = mapped_column(enum_column(Term), nullable=False)
    year: Mapped[int] = mapped_column(nullable=False)
    #: in person or live online (both count as live instruction for CE)
    format: Mapped[DeliveryFormat] = mapped_column(enum_column(DeliveryFormat), nullable=False)
    #: street address for in-person offerings
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    #: video-meeting link for live-online offerings
    meeting_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    #: IANA zone the meetings are scheduled in, e.g. America/New_York
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="America/New_York")
    #: when the offering was created (UTC)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: random value replaced in the same transaction as every write to what the completion matrix
    #: shows; worker processes key their cached matrix by it (``reports/matrix_snapshot.py``)
    matrix_revision: Mapped[str] = mapped_column(
        String(32), nullable=False, default=new_content_revision, server_default="initial"
    )

    course: Mapped[Course] = relationship()
    approvals: Mapped[list[BoardApproval]] = relationship(
        back_populates="offering", cascade="all, delete-orphan", order_by="BoardApproval.board"
    )
    meetings: Mapped[list[Meeting]] = relationship(back_populates="offering", order_by="Meeting.start_dt")
    instructors: Mapped[list[InstructorAssignment]] = relationship(back_populates="offering")

    @property
    def label(self) -> str:
        return f"{self.term.value.capitalize()} {self.year}"

    def __repr__(self) -> str:
        return f"<Offering {self.id} {self.label}>"


class BoardApproval(db.Model):
    __tablename__ = "imh_board_approval"
    __table_args__ = (UniqueConstraint("offering_id", "board"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the offering this approval covers
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False)
    #: NYSED board that approved the provider
    board: Mapped[Board] = mapped_column(enum_column(Board), nullable=False)
    #: e.g. SW-0057 or MHC-0048
    provider_number: Mapped[str] = mapped_column(String(20), nullable=False)
    #: the board's approval statement, printed on CE certificates
    statement: Mapped[str] = mapped_column(Text, nullable=False)

    offering: Mapped[Offering] = relationship(back_populates="approvals")

    def __repr__(self) -> str:
        return f"<BoardApproval {self.board} {self.provider_number}>"


class Meeting(db.Model):
    __tablename__ = "imh_meeting"
    __table_args__ = (UniqueConstraint("offering_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the offering this meeting belongs to
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: the course session taught at this meeting
    session_id: Mapped[int] = mapped_column(ForeignKey("imh_course_session.id"), nullable=False)
    #: scheduled start (UTC)
    start_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: scheduled end (UTC); the CE window is [start, end]
    end_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    #: only CE-eligible face-to-face meetings earn CE contact hours
    is_ce_eligible: Mapped[bool] = mapped_column(nullable=False, default=True)

    offering: Mapped[Offering] = relationship(back_populates="meetings")
    session: Mapped[CourseSession] = relationship()

    @property
    def length_minutes(self) -> int:
        return int((self.end_dt - self.start_dt).total_seconds() // 60)

    def __repr__(self) -> str:
        return f"<Meeting {self.offering_id} s{self.session_id} {self.start_dt:%Y-%m-%d}>"


class Enrolment(db.Model):
    __tablename__ = "imh_enrolment"
    __table_args__ = (UniqueConstraint("offering_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: the learner
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: active, withdrawn (read-only) or completed
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus), nullable=False, default=EnrolmentStatus.ACTIVE
    )
    #: how the seat is paid for (funder reports)
    funding: Mapped[Funding] = mapped_column(enum_column(Funding), nullable=False, default=Funding.FULL_FEE)
    #: when the learner was enrolled (UTC)
    enrolled_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    offering: Mapped[Offering] = relationship()
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Enrolment {self.offering_id}/{self.user_id} {self.status}>"


class InstructorAssignment(db.Model):
    __tablename__ = "imh_instructor_assignment"
    __table_args__ = (UniqueConstraint("offering_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: the instructor teaching this offering
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)

    offering: Mapped[Offering] = relationship(back_populates="instructors")
    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<InstructorAssignment {self.offering_id}/{self.user_id}>"
