"""Documents the course hands out: certificates, the endorsement training log, calendars, exports.

Pure rendering: plain frozen dataclasses in, ``bytes``/``str`` (or iterators of them) out. Nothing
here imports Flask or SQLAlchemy, so views, CLI commands and tests share one implementation, and
PDFs take every date from their facts, so identical facts render identical bytes. PDFs embed the
DejaVu Sans font shipped in ``fonts/`` (Latin, Greek, Cyrillic, Vietnamese; not CJK — see
``_pdf``).
"""

from imh_course.documents.calendar import CalendarEvent, offering_ics
from imh_course.documents.certificate import (
    CertificateFacts,
    CertificateKind,
    facts_digest,
    render_certificate_pdf,
)
from imh_course.documents.exports import csv_stream, safe_cell, xlsx_bytes
from imh_course.documents.training_log import LogEntry, TrainingLog, training_log_csv, training_log_pdf

__all__ = [
    "CalendarEvent",
    "CertificateFacts",
    "CertificateKind",
    "LogEntry",
    "TrainingLog",
    "csv_stream",
    "facts_digest",
    "offering_ics",
    "render_certificate_pdf",
    "safe_cell",
    "training_log_csv",
    "training_log_pdf",
    "xlsx_bytes",
]
