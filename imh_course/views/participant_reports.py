"""Crediting a live online meeting from its participant report: upload → match → preview → apply.

Instructors of the offering and coordinators (the attendance roster's access rule). Nothing is
written before "Apply": the file travels between the steps in a hidden field and is stored (by
sha256) only by the apply, in the same transaction as the records. Bad input re-renders the step
with the reason (400) and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import PurePath

from flask import current_app, flash, redirect, render_template, request
from werkzeug.wrappers import Response

from ..extensions import db
from ..forms.attendance import STATUS_LABELS, ReportReviewForm, ReportUploadForm
from ..models.offerings import Meeting, Offering
from ..operations.attendance import AttendanceError
from ..operations.participant_import import AlreadyApplied, apply_import
from ..operations.participant_preview import ImportPreview, Participant, preview_import
from ..records.ledgers import credit_policy
from ..rules.credit import AttendanceStatus
from ..rules.participant_report import MAX_BYTES
from ..rules.text import plural
from ..security.access import require_permission
from .attendance import PREFIX, STAFF_ATTENDANCE, roster_url, staff_actor, staff_meeting
from .attendance_roster import describe
from .blueprint import bp

MAX_NAMES = 500


def matchable(preview: ImportPreview) -> list[Participant]:
    """The names a person can match by hand: all but those matched by email and staff."""
    people = preview.unmatched + preview.ignored
    people += [
        p for c in preview.learners for p in c.participants if p.matched_by in ("chosen", "remembered")
    ]
    return sorted(people, key=lambda p: (p.name.casefold(), p.key))


def _render(
    template: str, offering: Offering, meeting: Meeting, status: int = 200, **values: object
) -> tuple[str, int]:
    from zoneinfo import ZoneInfo

    return render_template(
        f"imh_course/attendance/{template}",
        offering=offering,
        meeting=meeting,
        zone=ZoneInfo(offering.timezone),
        describe=describe,
        status_labels=STATUS_LABELS,
        AttendanceStatus=AttendanceStatus,
        max_mb=MAX_BYTES // 1_000_000,
        **values,
    ), status


def _review(
    offering: Offering,
    meeting: Meeting,
    form: ReportReviewForm,
    preview: ImportPreview,
    step: str,
    status: int = 200,
) -> tuple[str, int]:
    return _render(
        "report_review.html",
        offering,
        meeting,
        status,
        form=form,
        preview=preview,
        step=step,
        people=matchable(preview),
        remembered_keys={
            p.key for c in preview.learners for p in c.participants if p.matched_by == "remembered"
        },
    )


@bp.route(PREFIX + "/attendance/report", methods=["GET", "POST"])
@require_permission(*STAFF_ATTENDANCE)
def participant_report_upload(offering_id: int, meeting_id: int) -> Response | tuple[str, int]:
    """Upload a participant report; it is read and checked, nothing is written."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    form = ReportUploadForm()
    if not form.validate_on_submit():
        return _render(
            "report_upload.html", offering, meeting, 400 if form.is_submitted() else 200, form=form
        )
    upload = form.file.data
    raw = upload.read(MAX_BYTES + 1)
    name = PurePath((upload.filename or "report").replace("\\", "/")).name[:255] or "report"
    if len(raw) > MAX_BYTES:
        form.file.errors.append(
            f"The file is larger than {MAX_BYTES / 1_000_000:g} MB: is it the participant report?"
        )
        return _render("report_upload.html", offering, meeting, 400, form=form)
    try:
        preview = preview_import(meeting, raw, name, credit_policy(current_app.config))
    except AttendanceError as exc:
        form.file.errors.append(str(exc))
        return _render("report_upload.html", offering, meeting, 400, form=form)
    review = ReportReviewForm(formdata=None, report=base64.b64encode(raw).decode("ascii"), file_name=name)
    return _review(offering, meeting, review, preview, "match" if matchable(preview) else "preview")


def _chosen(form_data) -> tuple[dict[str, int | None], frozenset[str]]:  # noqa: ANN001
    """The matching screen's answers: participant key → learner id (None: not a learner)."""
    chosen: dict[str, int | None] = {}
    remember = set()
    for i in range(MAX_NAMES):
        key = form_data.get(f"key-{i}")
        if key is None:
            break
        value = (form_data.get(f"match-{i}") or "").strip()
        if value and not (value.isascii() and value.isdigit() and len(value) < 10):
            raise AttendanceError("Choose a learner from the list for each name.")
        chosen[key[:300]] = int(value) if value else None
        if form_data.get(f"remember-{i}") and value:
            remember.add(key[:300])
    return chosen, frozenset(remember)


@bp.route(PREFIX + "/attendance/report/review", methods=["POST"])
@require_permission(*STAFF_ATTENDANCE)
def participant_report_review(offering_id: int, meeting_id: int) -> Response | tuple[str, int]:
    """The matching and preview steps, and "Apply" (one transaction)."""
    offering, meeting = staff_meeting(offering_id, meeting_id)
    form = ReportReviewForm()
    if not form.validate_on_submit():
        flash("The form expired or the report is missing: please upload the report again.", "error")
        upload = ReportUploadForm(formdata=None)
        return _render("report_upload.html", offering, meeting, 400, form=upload)
    try:
        raw = base64.b64decode(form.report.data, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    action = request.form.get("action", "preview")
    policy = credit_policy(current_app.config)
    name = form.file_name.data or "report"
    try:
        if not raw or len(raw) > MAX_BYTES:
            raise AttendanceError("The report did not come through: please upload it again.")
        chosen, remember = _chosen(request.form)
        if action == "apply":
            result = apply_import(
                staff_actor(offering), meeting, raw, name, policy, chosen, remember, form.reason.data
            )
            db.session.commit()
            message = (
                f"Applied {name}: {plural(result.created, 'new mark')}, "
                f"{plural(result.corrected, 'correction')}, {result.unchanged} unchanged."
            )
            if result.remembered:
                message += f" {plural(result.remembered, 'name')} remembered for later meetings."
            flash(message, "success")
            return redirect(roster_url(offering, meeting))
        preview = preview_import(meeting, raw, name, policy, chosen)
    except AlreadyApplied as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(roster_url(offering, meeting))
    except AttendanceError as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        try:
            chosen, step = _chosen(request.form)[0], "match" if action == "match" else "preview"
        except AttendanceError:
            chosen, step = {}, "match"  # a choice that is no learner: match again
        try:
            preview = preview_import(meeting, raw, name, policy, chosen)
        except AttendanceError:
            upload = ReportUploadForm(formdata=None)
            upload.file.errors = [str(exc)]
            return _render("report_upload.html", offering, meeting, 400, form=upload)
        return _review(offering, meeting, form, preview, step, 400)
    return _review(offering, meeting, form, preview, "match" if action == "match" else "preview")
