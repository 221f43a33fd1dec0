"""The audit trail viewer: filter by offering, learner, actor, action and date range; paginated.

Read-only (the table is append-only by database trigger and hash-chained; ``flask imh audit
verify`` recomputes the chain). Dates are the site's local days (``IMH_TIMEZONE``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from sqlalchemy import Select, select
from wtforms import SelectChoice

from ..converters import parse_db_int
from ..extensions import db
from ..forms.coordinator import AuditFilterForm
from ..models.accounts import User
from ..models.audit import AuditEvent
from ..models.audit_chain import SYSTEM_ROLE
from ..models.offerings import Offering
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .helpers import page_number

PAGE_SIZE = 50
NOBODY = -1  # an id no row has: an unknown email matches nothing


def _person(text: str | None) -> int | None | str:
    """An id from "42" or an email; "system" for the system; None when not given."""
    if not text:
        return None
    if text.casefold() == SYSTEM_ROLE:
        return SYSTEM_ROLE
    if text.isdigit():  # any digits: "²" or 10**20 is an id no row has, not a 500
        found_id = parse_db_int(text)
        return found_id if found_id is not None else NOBODY
    found = db.session.scalar(select(User.id).where(User.email == text.lower()))
    return found if found is not None else NOBODY


def _day_start(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["IMH_TIMEZONE"])
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _filtered(form: AuditFilterForm) -> Select:
    query = select(AuditEvent)
    if form.offering.data:  # not one of the choices (forged, or past INTEGER) matches nothing
        offering_id = parse_db_int(str(form.offering.data))
        query = query.where(AuditEvent.offering_id == (offering_id if offering_id is not None else NOBODY))
    learner = _person(form.learner.data)
    if isinstance(learner, int):
        query = query.where(AuditEvent.learner_id == learner)
    actor = _person(form.actor.data)
    if actor == SYSTEM_ROLE:
        query = query.where(AuditEvent.actor_id.is_(None))
    elif isinstance(actor, int):
        query = query.where(AuditEvent.actor_id == actor)
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.date_from.data:
        query = query.where(AuditEvent.occurred_dt >= _day_start(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.occurred_dt < _day_start(form.date_to.data + timedelta(days=1)))
    return query


@bp.route("/staff/audit")
@require_permission(Permission.VIEW_AUDIT_TRAIL)
def audit_trail():
    """Who did what, when, to which record, and why — newest first."""
    form = AuditFilterForm(formdata=request.args)
    offerings = db.session.scalars(select(Offering).order_by(Offering.year.desc(), Offering.id.desc())).all()
    form.offering.choices = [SelectChoice("", "All offerings")] + [
        SelectChoice(str(o.id), o.label) for o in offerings
    ]
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()
    form.action.choices = [SelectChoice("", "All actions")] + [SelectChoice(a, a) for a in actions]
    valid = form.validate()
    requested = page_number()  # a huge number overflowed OFFSET: a 500 on SQLite
    page = requested or 1
    events = db.session.scalars(
        _filtered(form).order_by(AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    ).all()
    has_next = len(events) > PAGE_SIZE
    events = events[:PAGE_SIZE]
    people_ids = {e.actor_id for e in events} | {e.learner_id for e in events}
    people = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_([i for i in people_ids if i is not None])))
    }
    args = {k: v for k, v in request.args.items() if v and k != "page"}
    return render_template(
        "imh_course/audit/events.html",
        form=form,
        events=events,
        people=people,
        offering_labels={o.id: o.label for o in offerings},
        page=page,
        prev_url=url_for("imh.audit_trail", **args, page=page - 1) if page > 1 else None,
        next_url=url_for("imh.audit_trail", **args, page=page + 1) if has_next else None,
        timezone=current_app.config["IMH_TIMEZONE"],
    ), (200 if valid and requested is not None else 400)
