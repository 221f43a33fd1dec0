"""Coordinator exports: CE roster (board audit), completion matrix, funder report, certificates ZIP.

CSV is UTF-8 with a BOM and streamed from a generator (rows come from ``yield_per`` chunks);
XLSX is built with XlsxWriter in constant-memory mode. Every cell goes through
``documents.exports.safe_cell``, so nothing typed by a learner can run as a formula. Downloading an
export is itself an audit event (``export.download``), committed before the first byte is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask import Response, abort, render_template, send_file, stream_with_context
from sqlalchemy import select

from ..database import begin_write
from ..documents.exports import csv_stream, xlsx_bytes
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.offerings import Offering
from ..operations.bulk_certificates import certificates_zip
from ..reports.exports_data import (
    CE_ROSTER_HEADER,
    FUNDER_HEADER,
    ce_roster_rows,
    funder_rows,
    matrix_header,
    matrix_rows,
)
from ..reports.matrix_data import load_frame
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .coordinator import OFFERING, coordinator_actor
from .helpers import get_or_404

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def audit_download(
    actor: Actor,
    report: str,
    fmt: str,
    *,
    offering_id: int | None = None,
    learner_id: int | None = None,
    rows: int | None = None,
) -> None:
    """Record ``export.download`` and commit it before the file goes out.

    A GET runs in a deferred (read) transaction on SQLite; it is ended first and the event written
    in its own write transaction, so the write lock is held only for this one insert.
    """
    db.session.commit()
    begin_write()
    after: dict[str, object] = {"report": report, "format": fmt}
    if rows is not None:
        after["rows"] = rows
    entity_type, entity_id = ("user", learner_id) if learner_id else ("offering", offering_id)
    record_event(
        actor,
        "export.download",
        entity_type,
        entity_id,
        offering_id=offering_id,
        learner_id=learner_id,
        after=after,
    )
    db.session.commit()


def attachment_name(offering: Offering | None, report: str, ext: str) -> str:
    if offering is None:
        return f"imh-{report}-all-offerings.{ext}"
    return f"imh-{report}-{offering.term.value}-{offering.year}.{ext}"


def spreadsheet(
    header: Sequence[str], rows: Iterable[Sequence[object]], fmt: str, filename: str, sheet: str
) -> Response:
    """A streamed CSV (BOM, neutralised cells) or an XLSX of ``rows``."""
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        return Response(
            stream_with_context(csv_stream(header, rows)), mimetype=FORMATS["csv"], headers=disposition
        )
    return Response(xlsx_bytes(header, rows, sheet_name=sheet), mimetype=FORMATS["xlsx"], headers=disposition)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        abort(404)
    return fmt


@bp.route(OFFERING + "/exports")
@require_permission(Permission.EXPORT_REPORTS)
def exports_page(offering_id: int):
    offering = get_or_404(Offering, offering_id)
    return render_template("imh_course/coordinator/exports.html", offering=offering)


@bp.route(OFFERING + "/exports/ce-roster.<fmt>")
@require_permission(Permission.EXPORT_REPORTS)
def export_ce_roster(offering_id: int, fmt: str):
    """CE roster for a board audit: license, CE hours, dates attended, certificate ID and status."""
    fmt = _format(fmt)
    offering = get_or_404(Offering, offering_id)
    audit_download(coordinator_actor(), "ce_roster", fmt, offering_id=offering.id)
    name = attachment_name(offering, "ce-roster", fmt)
    return spreadsheet(CE_ROSTER_HEADER, ce_roster_rows([offering]), fmt, name, f"CE roster {offering.label}")


@bp.route("/staff/exports/ce-roster.<fmt>")
@require_permission(Permission.EXPORT_REPORTS)
def export_ce_roster_all(fmt: str):
    """The CE roster of every offering, newest first (streamed in chunks of learners, with the same
    statements for 1 offering or 100)."""
    fmt = _format(fmt)
    audit_download(coordinator_actor(), "ce_roster_all", fmt)
    offerings = db.session.scalars(select(Offering).order_by(Offering.year.desc(), Offering.id.desc())).all()
    name = attachment_name(None, "ce-roster", fmt)
    return spreadsheet(CE_ROSTER_HEADER, ce_roster_rows(offerings), fmt, name, "CE roster")


@bp.route(OFFERING + "/exports/completion-matrix.<fmt>")
@require_permission(Permission.EXPORT_REPORTS)
def export_matrix(offering_id: int, fmt: str):
    """The completion matrix, one line per learner and five columns per session."""
    fmt = _format(fmt)
    offering = get_or_404(Offering, offering_id)
    audit_download(coordinator_actor(), "completion_matrix", fmt, offering_id=offering.id)
    header = matrix_header(load_frame(offering))
    name = attachment_name(offering, "completion-matrix", fmt)
    return spreadsheet(header, matrix_rows(offering), fmt, name, f"Completion {offering.label}")


@bp.route(OFFERING + "/exports/funder-report.<fmt>")
@require_permission(Permission.EXPORT_REPORTS)
def export_funder_report(offering_id: int, fmt: str):
    """Enrolments by funding type and discipline, completions, certificates and hours delivered."""
    fmt = _format(fmt)
    offering = get_or_404(Offering, offering_id)
    audit_download(coordinator_actor(), "funder_report", fmt, offering_id=offering.id)
    name = attachment_name(offering, "funder-report", fmt)
    return spreadsheet(FUNDER_HEADER, funder_rows(offering), fmt, name, f"Funders {offering.label}")


@bp.route(OFFERING + "/certificates.zip")
@require_permission(Permission.ISSUE_CERTIFICATES)
def certificates_zip_download(offering_id: int):
    """Every valid certificate of the offering as one ZIP (with an index.csv)."""
    offering = get_or_404(Offering, offering_id)
    spool, count = certificates_zip(offering)
    audit_download(coordinator_actor(), "certificates_zip", "zip", offering_id=offering.id, rows=count)
    return send_file(
        spool,
        mimetype="application/zip",
        as_attachment=True,
        download_name=attachment_name(offering, "certificates", "zip"),
        max_age=0,
    )
