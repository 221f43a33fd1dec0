"""The completion audit: the learners × sessions matrix with its charts, a learner's drill-down,
and issuing every due certificate at once.

Coordinators only (``AUDIT_COMPLETION``): instructors keep their attendance roster and the shared
responses, but not the matrix, even of offerings they teach. No page here shows the text of an
exercise response: the matrix loads only whether a response was submitted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, current_app, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select

from ..converters import page_number
from ..extensions import db
from ..forms.coordinator import ActionForm, FundingForm, MatrixFilterForm
from ..models.accounts import User
from ..models.attendance import AttendanceEvidence, AttendanceRecord
from ..models.audit import AuditEvent
from ..models.offerings import FUNDING_LABELS, Enrolment, Meeting, Offering
from ..operations.bulk_certificates import issue_due
from ..operations.stale_certificates import stale_certificates
from ..records.ledgers import credit_policy, learner_ledger
from ..reports.matrix import LearnerRow
from ..reports.matrix_data import learner_row, load_matrix
from ..reports.matrix_filters import SORT_KEYS
from ..reports.matrix_snapshot import MatrixSnapshot, matrix_snapshot
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .coordinator import OFFERING, coordinator_actor
from .helpers import get_or_404

PAGE_SIZE = 100
ATTENDANCE_ENDPOINTS = ("imh.meeting_attendance", "imh.attendance_roster")
STATUS_SHORT = {"present": "P", "late": "L", "left_early": "LE", "absent": "A", "excused": "E"}


def attendance_endpoint() -> str | None:
    """The attendance screen to link matrix cells to (built by the attendance work), if present."""
    return next((e for e in ATTENDANCE_ENDPOINTS if e in current_app.view_functions), None)


@dataclass(frozen=True, slots=True)
class CellView:
    """One matrix cell, ready to print: a page holds 1,100 of them, so the template only places
    strings (no macro, no ``url_for`` per cell)."""

    scheduled: bool  # the session has a meeting in this offering
    mark: str  # "P 90": status and credited minutes, "—" without a record
    css: str
    href: str | None  # the attendance screen, at this learner's row
    number: int
    warn: bool  # signed in without a sign-out
    work: str  # "R 1/2 · X 1/1 · Q ✓"


def cell_views(
    offering_id: int, rows: Sequence[LearnerRow], endpoint: str | None
) -> dict[int, list[CellView]]:
    """The shown rows' cells by learner id (one attendance link per meeting, then a fragment each)."""
    links: dict[int, str] = {}
    views: dict[int, list[CellView]] = {}
    for row in rows:
        anchor = f"#learner-{row.user_id}"
        views[row.user_id] = mine = []
        for c in row.cells:
            href = None
            if endpoint and c.meeting_id:
                link = links.get(c.meeting_id)
                if link is None:
                    link = links[c.meeting_id] = url_for(
                        endpoint, offering_id=offering_id, meeting_id=c.meeting_id
                    )
                href = link + anchor
            work = f"R {c.readings_done}/{c.readings_total} · X {c.exercises_submitted}/{c.exercises_total}"
            if c.quizzes_total:
                work += " · Q ✓" if c.quizzes_passed == c.quizzes_total else " · Q ✗"
            mine.append(
                CellView(
                    scheduled=bool(c.meeting_id),
                    mark=f"{STATUS_SHORT[c.status.value]} {c.credited_minutes}" if c.status else "—",
                    css="cell-credit" if c.credited_minutes else "cell-none",
                    href=href,
                    number=c.session.number,
                    warn=c.awaiting_sign_out,
                    work=work,
                )
            )
    return views


def row_html(
    snapshot: MatrixSnapshot, offering: Offering, rows: Sequence[LearnerRow], endpoint: str | None
) -> list[Markup]:
    """Each shown row's ``<tr>``, rendered once per snapshot (``_matrix_row.html``) and then reused
    by every page, sort and filter that shows the row until the matrix changes."""
    memo, root = snapshot.fragments, request.script_root
    missing = [r for r in rows if (r.user_id, endpoint, root) not in memo]
    if missing:
        macro = current_app.jinja_env.get_template("imh_course/coordinator/_matrix_row.html").module.row
        views = cell_views(offering.id, missing, endpoint)
        for r in missing:
            memo[(r.user_id, endpoint, root)] = macro(r, views[r.user_id], offering, snapshot.stale)  # Markup
    return [memo[(r.user_id, endpoint, root)] for r in rows]


def _query_args(**changes: Any) -> dict[str, Any]:
    args = {k: v for k, v in request.args.items() if v not in ("", None)}
    args.update(changes)
    return {k: v for k, v in args.items() if v not in ("", None)}


_PAGE_MARK = 987654321


def _page_links(offering_id: int, pages: int) -> dict[int, str]:
    """Each page's link: one ``url_for`` with a marker page number, then only the number changes
    (a 5,000-learner offering has 50 pages; their links should not cost 50 URL builds)."""
    first = url_for("imh.completion_matrix", offering_id=offering_id, **_query_args(page=None))
    if pages == 1:
        return {1: first}
    marked = url_for("imh.completion_matrix", offering_id=offering_id, **_query_args(page=_PAGE_MARK))
    return {1: first} | {n: marked.replace(f"page={_PAGE_MARK}", f"page={n}") for n in range(2, pages + 1)}


@bp.route(OFFERING + "/matrix")
@require_permission(Permission.AUDIT_COMPLETION)
def completion_matrix(offering_id: int):
    """Learners × 11 sessions with both ledgers, evaluation, attestation and certificate status."""
    offering = get_or_404(Offering, offering_id)
    form = MatrixFilterForm(formdata=request.args)
    sort = request.args.get("sort", "name")
    sort = sort if sort in SORT_KEYS else "name"
    descending = request.args.get("dir") == "desc"
    snapshot = matrix_snapshot(offering, stale_certificates)
    matrix = snapshot.matrix
    rows = snapshot.view(
        form.license.data or "", bool(form.at_risk.data), bool(form.not_issued.data), sort, descending
    )
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page_number(request.args), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    endpoint = attendance_endpoint()
    sort_links = {
        key: url_for(
            "imh.completion_matrix",
            offering_id=offering.id,
            **_query_args(sort=key, dir="desc" if key == sort and not descending else None, page=None),
        )
        for key in SORT_KEYS
    }
    page_links = _page_links(offering.id, pages)
    return render_template(
        "imh_course/coordinator/matrix.html",
        offering=offering,
        frame=matrix.frame,
        form=form,
        rows=shown,
        total=len(matrix.rows),
        matching=len(rows),
        sort=sort,
        descending=descending,
        sort_links=sort_links,
        page=page,
        page_links=page_links,
        counts=snapshot.counts,
        attendance_chart=snapshot.attendance_chart,
        funnel=snapshot.funnel,
        funnel_chart=snapshot.funnel_chart,
        attendance_endpoint=endpoint,
        row_html=row_html(snapshot, offering, shown, endpoint),
        funding_labels=FUNDING_LABELS,
        export_args=_query_args(page=None),
        stale=snapshot.stale,
    )


def _learner_row(offering: Offering, learner_id: int) -> tuple[Any, LearnerRow]:
    """The learner's matrix row (same rules as the matrix), or 404 when not enrolled."""
    found = learner_row(offering, learner_id)
    if found is None:
        abort(404)
    return found


@bp.route(OFFERING + "/learners/<dbint:learner_id>")
@require_permission(Permission.AUDIT_COMPLETION)
def learner_drilldown(offering_id: int, learner_id: int):
    """One learner's full transcript and the evidence behind each attendance record."""
    offering = get_or_404(Offering, offering_id)
    frame, row = _learner_row(offering, learner_id)
    learner = db.session.get(User, learner_id)
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner_id)
    )
    ledger = learner_ledger(offering, learner_id, credit_policy(current_app.config))
    evidence: dict[int, list[AttendanceEvidence]] = defaultdict(list)
    for item in db.session.scalars(
        select(AttendanceEvidence)
        .join(AttendanceRecord, AttendanceRecord.id == AttendanceEvidence.record_id)
        .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
        .where(Meeting.offering_id == offering.id, AttendanceRecord.user_id == learner_id)
        .order_by(AttendanceEvidence.at_dt, AttendanceEvidence.id)
    ):
        evidence[item.record_id].append(item)
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.learner_id == learner_id, AuditEvent.offering_id == offering.id)
        .order_by(AuditEvent.id)
    ).all()
    attendance_events: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in events:
        if event.entity_type == "attendance" and event.entity_id:
            attendance_events[event.entity_id].append(event)
    actor_ids = {e.actor_id for items in evidence.values() for e in items} | {e.actor_id for e in events}
    actors = {
        u.id: u.full_name
        for u in db.session.scalars(select(User).where(User.id.in_([i for i in actor_ids if i is not None])))
    }
    funding_form = FundingForm()
    funding_form.funding.data = enrolment.funding.value
    return render_template(
        "imh_course/coordinator/learner.html",
        offering=offering,
        frame=frame,
        row=row,
        learner=learner,
        enrolment=enrolment,
        ledger=ledger,
        evidence=evidence,
        events=events,
        attendance_events=attendance_events,
        actors=actors,
        funding_form=funding_form,
        action_form=ActionForm(),
        stale=stale_certificates(offering, [row]).get(learner_id),
        attendance_endpoint=attendance_endpoint(),
        funding_labels=FUNDING_LABELS,
    )


@bp.route(OFFERING + "/certificates/bulk", methods=["GET", "POST"])
@require_permission(Permission.ISSUE_CERTIFICATES)
def bulk_issue(offering_id: int):
    """Issue every due certificate in one action, then show the results with a progress bar."""
    offering = get_or_404(Offering, offering_id)
    form = ActionForm()
    rows = load_matrix(offering).rows
    due = [r for r in rows if r.due]
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        result = issue_due(coordinator_actor(), offering, rows=rows)
        db.session.commit()
        return render_template("imh_course/coordinator/bulk_result.html", offering=offering, result=result)
    active = [r for r in rows if r.active]
    return render_template(
        "imh_course/coordinator/bulk_issue.html",
        offering=offering,
        form=form,
        due=due,
        issued=sum(1 for r in active if r.valid_certificate is not None),
        waiting=[r for r in active if r.valid_certificate is None and not r.eligibility.eligible],
    )
