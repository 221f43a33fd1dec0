"""Open Badges credentials: the signing keys and the one stored credential per certificate version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .certificates import Certificate
from .types import UTCDateTime, utcnow

#: entries in the status list (the Bitstring Status List minimum, 16 KB)
STATUS_LIST_SIZE = 131_072


class SigningKey(db.Model):
    """A key pair that signs credentials. Retired keys stay so what they signed still verifies."""

    __tablename__ = "imh_signing_key"
    __table_args__ = (
        # One active key at a time (the one new credentials are signed with).
        Index(
            "uq_imh_signing_key_one_active",
            "algorithm",
            unique=True,
            sqlite_where=text("retired_dt IS NULL"),
            postgresql_where=text("retired_dt IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: RFC 7638 thumbprint of the public key; the JOSE header's kid ends with it
    kid: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: the JOSE algorithm (ES256)
    algorithm: Mapped[str] = mapped_column(String(16), nullable=False)
    #: the public key as a JWK (published in the JWKS)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    #: the private key as PKCS#8 PEM, encrypted with the key passphrase (never stored in clear)
    private_pem: Mapped[str] = mapped_column(Text, nullable=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    #: set by a rotation: the key signs nothing new but keeps verifying
    retired_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def __repr__(self) -> str:
        return f"<SigningKey {self.kid[:8]} {'retired' if self.retired_dt else 'active'}>"


class BadgeCredential(db.Model):
    """The signed OpenBadgeCredential of one certificate version, made once and served as stored."""

    __tablename__ = "imh_badge_credential"
    __table_args__ = (
        CheckConstraint(
            f"status_index >= 0 AND status_index < {STATUS_LIST_SIZE}", name="status_index_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("imh_certificate.id"), unique=True, nullable=False)
    #: the credential's id (urn:uuid:…), also the JWT's jti
    credential_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    #: this credential's bit in the status list (random, so the position says nothing)
    status_index: Mapped[int] = mapped_column(unique=True, nullable=False)
    signing_key_id: Mapped[int] = mapped_column(ForeignKey("imh_signing_key.id"), nullable=False)
    #: the compact JWS exactly as downloaded
    token: Mapped[str] = mapped_column(Text, nullable=False)
    issued_dt: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)

    certificate: Mapped[Certificate] = relationship()
    signing_key: Mapped[SigningKey] = relationship()

    def __repr__(self) -> str:
        return f"<BadgeCredential {self.credential_id} #{self.status_index}>"
