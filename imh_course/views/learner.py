"""The learner's overview pages: offerings, dashboard, session page, transcript and calendar."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..forms.learner import MarkCompleteForm
from ..meeting_calendar import meetings_ics
from ..models.offerings import FORMAT_LABELS, Enrolment, EnrolmentStatus, Meeting
from ..models.types import utcnow
from ..operations.checkin import checkin_hours
from ..records.ledgers import LearnerLedger, SessionLedger
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .learner_common import (
    my_ce_standing,
    my_ledger,
    my_snapshot,
    studied_offering,
    studied_offering_and_revision,
)


@bp.route("/learn")
@require_permission(Permission.LEARN)
def learner_home():
    """The offerings the learner is enrolled in (straight to the dashboard when there is one)."""
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == current_user.id)
        .options(selectinload(Enrolment.offering))
        .order_by(Enrolment.enrolled_dt.desc())
    ).all()
    if len(enrolments) == 1:
        return redirect(url_for("imh.offering_dashboard", offering_id=enrolments[0].offering_id))
    return render_template("imh_course/learner/home.html", enrolments=enrolments)


@bp.route("/learn/offerings/<dbint:offering_id>")
@require_permission(Permission.LEARN)
def offering_dashboard(offering_id: int):
    """The 11 sessions with their status, both ledgers as separate progress bars, what is due next."""
    offering, enrolment, revision = studied_offering_and_revision(offering_id)
    now = utcnow()
    ledger = my_ledger(offering, my_snapshot(offering, revision), now=now)
    return render_template(
        "imh_course/learner/dashboard.html",
        live_checkin=live_checkin(ledger, now),
        offering=offering,
        enrolment=enrolment,
        ledger=ledger,
        f2f=ledger.face_to_face(my_ce_standing(offering)),
        next_up=ledger.next_session(),
        read_only=enrolment.status is EnrolmentStatus.WITHDRAWN,
        format_label=FORMAT_LABELS[offering.format],
    )


def live_checkin(ledger: LearnerLedger, now: datetime) -> SessionLedger | None:
    """The session whose check-in is live now (the most recently opened), decided as
    ``checkin.live_meeting`` does, from the open windows the ledger's meeting query brought along."""
    live = []
    for row in ledger.sessions:
        if row.meeting is None or row.meeting.checkin_opened_dt is None:
            continue
        opens, closes = checkin_hours(row.meeting)
        if opens <= now <= closes:
            live.append(row)
    return max(live, key=lambda row: row.meeting.checkin_opened_dt, default=None)


@bp.route("/learn/offerings/<dbint:offering_id>/sessions/<dbint:number>")
@require_permission(Permission.LEARN)
def session_page(offering_id: int, number: int):
    """Objectives, readings (with one-click completion), exercises and the quiz of one session."""
    offering, enrolment, revision = studied_offering_and_revision(offering_id)
    snapshot = my_snapshot(offering, revision)
    content = snapshot.session_number(number)
    if content is None:
        abort(404)
    ledger = my_ledger(offering, snapshot)
    row = next(s for s in ledger.sessions if s.session.id == content.session.id)
    return render_template(
        "imh_course/learner/session.html",
        offering=offering,
        row=row,
        session=row.session,
        meeting=row.meeting,
        ce_standing=my_ce_standing(offering),
        complete_form=MarkCompleteForm(),
        read_only=enrolment.status is EnrolmentStatus.WITHDRAWN,
    )


@bp.route("/learn/offerings/<dbint:offering_id>/transcript")
@require_permission(Permission.LEARN)
def transcript(offering_id: int):
    """Both ledgers session by session with totals; printable."""
    offering, _enrolment, revision = studied_offering_and_revision(offering_id)
    ledger = my_ledger(offering, my_snapshot(offering, revision))
    return render_template(
        "imh_course/learner/transcript.html",
        offering=offering,
        ledger=ledger,
        f2f=ledger.face_to_face(my_ce_standing(offering)),
        format_label=FORMAT_LABELS[offering.format],
    )


@bp.route("/learn/offerings/<dbint:offering_id>/calendar.ics")
@require_permission(Permission.LEARN)
def calendar(offering_id: int):
    """The offering's meetings as an .ics file (UTC times, the offering's zone named)."""
    offering, _enrolment = studied_offering(offering_id)
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.offering_id == offering.id)
        .options(selectinload(Meeting.session))
        .order_by(Meeting.start_dt)
    ).all()
    host = request.host.split(":")[0] or "imh-course"
    body = meetings_ics(offering, meetings, host)
    filename = f"imh-{offering.term.value}-{offering.year}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
