"""Issuing every due certificate of an offering at once, and all of them as one ZIP.

"Due" = an active enrolment whose learner is eligible and has no valid certificate, as the
completion matrix computes it (a fixed number of queries). Each certificate is then issued by
``operations.certificates.issue_certificate``, which re-checks eligibility, freezes the facts,
renders the PDF and audits; it is idempotent, so a re-run (or a concurrent one) skips what exists.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import IO

from sqlalchemy import func, select

from ..documents.exports import csv_stream
from ..extensions import db
from ..models.accounts import LearnerProfile, User
from ..models.audit_chain import Actor
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import Offering
from ..reports.matrix import LearnerRow
from ..reports.matrix_data import load_matrix
from .certificates import CertificateError, NotEligible, issue_certificate

ZIP_MEMORY_LIMIT = 16 * 1024 * 1024  # beyond this the ZIP spills to a temporary file


@dataclass
class BulkResult:
    """What one bulk run examined and did: every active enrolment is counted in exactly one bucket."""

    enrolled: int = 0  # active enrolments examined
    due: int = 0
    issued: list[tuple[str, str]] = field(default_factory=list)  # (name, certificate id)
    already: int = 0
    not_eligible: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.issued) + self.already + len(self.not_eligible) + len(self.failed)


def due_rows(offering: Offering) -> list[LearnerRow]:
    return [row for row in load_matrix(offering).rows if row.due]


def active_rows(offering: Offering) -> list[LearnerRow]:
    """Every active enrolment of the offering: what a bulk run examines and counts."""
    return [row for row in load_matrix(offering).rows if row.active]


def issue_due(
    actor: Actor,
    offering: Offering,
    *,
    rows: list[LearnerRow] | None = None,
    progress: Callable[[LearnerRow], None] | None = None,
) -> BulkResult:
    """Issue every due certificate among ``rows`` (default: every active enrolment) and count the
    rest, so a summary says what was examined (already issued, not eligible), not only what was due.
    One learner's refusal never stops the others. Flushes only."""
    rows = active_rows(offering) if rows is None else [row for row in rows if row.active]
    result = BulkResult(enrolled=len(rows), due=sum(1 for row in rows if row.due))
    for row in rows:
        _examine(actor, offering, row, result)
        if progress is not None:
            progress(row)
    return result


def _examine(actor: Actor, offering: Offering, row: LearnerRow, result: BulkResult) -> None:
    """Count one active enrolment in exactly one bucket, issuing its certificate if it is due."""
    if row.valid_certificate is not None:
        result.already += 1
        return
    if not row.eligibility.eligible:
        result.not_eligible.append((row.learner.name, row.eligibility.reasons))
        return
    learner = db.session.get(User, row.user_id)
    try:
        outcome = issue_certificate(actor, offering, learner)
    except NotEligible as exc:
        result.not_eligible.append((row.learner.name, exc.reasons))
    except CertificateError as exc:
        result.failed.append((row.learner.name, str(exc)))
    else:
        if outcome.created:
            result.issued.append((row.learner.name, outcome.certificate.public_id))
        else:
            result.already += 1


def summary(result: BulkResult) -> str:
    """One line that accounts for every active enrolment examined."""
    return (
        f"{len(result.issued)} issued, {result.already} already issued, "
        f"{len(result.not_eligible)} not eligible, {len(result.failed)} failed, "
        f"of {result.enrolled} enrolled"
    )


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-")[:60] or "learner"


def certificates_zip(offering: Offering) -> tuple[IO[bytes], int]:
    """Every valid certificate PDF of the offering plus an index.csv, in a spooled ZIP (rewound)."""
    name = func.coalesce(LearnerProfile.certificate_name, User.full_name)
    query = (
        select(
            Certificate.public_id,
            Certificate.kind,
            Certificate.version,
            Certificate.issued_dt,
            name,
            Certificate.pdf,
        )
        .join(User, User.id == Certificate.user_id)
        .outerjoin(LearnerProfile, LearnerProfile.user_id == User.id)
        .where(Certificate.offering_id == offering.id, Certificate.status == CertificateStatus.VALID)
        .order_by(name, Certificate.id)
        .execution_options(yield_per=20)
    )
    spool: IO[bytes] = SpooledTemporaryFile(max_size=ZIP_MEMORY_LIMIT)  # noqa: SIM115 - returned open
    index: list[list[object]] = []
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for public_id, kind, version, issued, learner, pdf in db.session.execute(query):
            filename = f"{_slug(learner)}-{public_id}.pdf"
            archive.writestr(filename, pdf)
            index.append([learner, public_id, kind.value, version, issued, filename])
        header = ("Learner", "Certificate ID", "Kind", "Version", "Issued (UTC)", "File")
        archive.writestr("index.csv", "".join(csv_stream(header, index)).encode("utf-8"))
    spool.seek(0)
    return spool, len(index)
