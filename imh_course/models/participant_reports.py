"""Participant reports of live online meetings: the files (content-addressed), their imports, and
the names matched by hand that an offering remembers for its later meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .offerings import Meeting
from .types import UTCDateTime, utcnow


class ReportFile(db.Model):
    """An uploaded report exactly as received, keyed by its sha256 (kept for audit, never changed).

    In the database rather than the instance folder: it then lives as long as the attendance it
    proves (6 years), is in every backup and restore with it, is written in the same transaction
    as the import (no file without its import, no import without its file), and is there for
    every worker and host of a PostgreSQL deployment. Reports are small (at most 1 MB).
    """

    __tablename__ = "imh_report_file"

    #: sha256 of the bytes, hex: the file's address
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: the bytes as uploaded
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    #: when first stored (UTC)
    stored_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class ParticipantImport(db.Model):
    """One applied report of one meeting; the unique pair makes re-importing it a no-op."""

    __tablename__ = "imh_participant_import"
    __table_args__ = (UniqueConstraint("meeting_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("imh_meeting.id"), nullable=False, index=True)
    #: the stored file
    sha256: Mapped[str] = mapped_column(ForeignKey("imh_report_file.sha256"), nullable=False)
    #: the file's name as uploaded
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    #: "Zoom", "Microsoft Teams" …, as recognised from the headers
    platform: Mapped[str] = mapped_column(String(40), nullable=False)
    #: what the import did: counts, ignored guests and staff, unmatched names
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: the importer's reason for changing records that already had a mark
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    applied_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    applied_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    file: Mapped[ReportFile] = relationship()

    def __repr__(self) -> str:
        return f"<ParticipantImport m{self.meeting_id} {self.sha256[:12]}>"


class ParticipantAlias(db.Model):
    """A report name matched by hand to a learner, used again for the offering's later meetings."""

    __tablename__ = "imh_participant_alias"
    __table_args__ = (UniqueConstraint("offering_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: the name as the report shows it, case-folded and with spaces collapsed
    name_key: Mapped[str] = mapped_column(String(200), nullable=False)
    #: the learner it stands for
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
