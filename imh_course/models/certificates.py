"""Certificates (frozen snapshots with their PDF), the course evaluation and the attestation."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..rules.completion import CertificateKind
from .accounts import User
from .types import UTCDateTime, enum_column, utcnow


class CertificateStatus(StrEnum):
    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class Certificate(db.Model):
    __tablename__ = "imh_certificate"
    __table_args__ = (
        # At most one valid certificate per learner and offering, on SQLite and PostgreSQL alike:
        # two coordinators (or two workers) issuing at once cannot both succeed.
        Index(
            "uq_imh_certificate_one_valid",
            "offering_id",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'valid'"),
            postgresql_where=text("status = 'valid'"),
        ),
        UniqueConstraint("offering_id", "user_id", "version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: opaque, unguessable id printed on the certificate and used by /verify/<id>
    public_id: Mapped[str] = mapped_column(String(40), unique=True, nullable=False)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: the learner
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False, index=True)
    #: 1 for the first issue; a reissue is version + 1 and supersedes the previous one
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    #: ce or completion
    kind: Mapped[CertificateKind] = mapped_column(enum_column(CertificateKind), nullable=False)
    #: the frozen facts printed on the certificate; never re-derived later
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: sha256 of the canonical facts
    facts_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    #: the rendered PDF, stored with the row so "issued" always has its document
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status: Mapped[CertificateStatus] = mapped_column(enum_column(CertificateStatus), nullable=False)
    issued_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_user.id"), nullable=True)
    #: set when revoked
    revoked_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the newer version that replaced this one
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("imh_certificate.id"), nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<Certificate {self.public_id} v{self.version} {self.status}>"


class EvaluationReceipt(db.Model):
    """That a learner submitted the course evaluation, kept apart from what they said."""

    __tablename__ = "imh_evaluation_receipt"
    __table_args__ = (UniqueConstraint("offering_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False)
    submitted_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<EvaluationReceipt o{self.offering_id} u{self.user_id}>"


class EvaluationAnswer(db.Model):
    """The evaluation's content, with no link to who wrote it (summaries stay anonymous)."""

    __tablename__ = "imh_evaluation_answer"

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False, index=True)
    #: {"objectives_met": 1-5, "instructors": 1-5, "relevance": 1-5, …}
    ratings: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    comments: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: the day only (no time), so answers cannot be matched to receipts by timestamp
    submitted_on: Mapped[date] = mapped_column(Date, nullable=False)

    def __repr__(self) -> str:
        return f"<EvaluationAnswer o{self.offering_id}>"


class Attestation(db.Model):
    """The learner's statement that the recorded attendance is accurate."""

    __tablename__ = "imh_attestation"
    __table_args__ = (UniqueConstraint("offering_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("imh_offering.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("imh_user.id"), nullable=False)
    #: the exact statement the learner agreed to
    statement: Mapped[str] = mapped_column(Text, nullable=False)
    #: the CE minutes shown to the learner when they attested
    ce_minutes_shown: Mapped[int] = mapped_column(nullable=False)
    attested_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    def __repr__(self) -> str:
        return f"<Attestation o{self.offering_id} u{self.user_id}>"
