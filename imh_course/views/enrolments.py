"""Coordinator pages for one offering's learners: enrol, import a roster, fund, withdraw, invite.

Split from ``views/coordinator.py`` (its pipeline and helpers); endpoint names and URLs are
unchanged. Pages that show a new invitation link render it once (status 200) instead of
redirecting, because the link's secret is never stored and must not travel in the session cookie.
A password-reset link is never shown: it is emailed to the learner only.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..forms.coordinator import ActionForm, EnrolForm, FundingForm, ReasonForm, RosterForm
from ..lti.roster import RosterError, roster_links, sync_offering
from ..mail.notify import external_url
from ..models.accounts import TokenPurpose, User
from ..models.offerings import Enrolment, EnrolmentStatus, Funding, Offering
from ..operations.account_admin import ADMIN_RESET_TTL, account_link, link_validity
from ..operations.accounts import AccountError, deliver_account_link
from ..operations.enrolment import (
    EnrolmentError,
    LearnerData,
    RosterInvalid,
    enrol_learner,
    import_roster,
    new_invitation,
    reinstate,
    set_funding,
    withdraw,
)
from ..operations.roster_csv import COLUMNS, FUNDING_HELP, LICENSE_HELP
from ..security import log as security_log
from ..security.access import require_permission
from ..security.roles import Permission
from .blueprint import bp
from .coordinator import OFFERING, coordinator_actor, error_into
from .helpers import get_or_404


def invite_url(token: str) -> str:
    """The invitation link for a raw token (shown once; the token itself is never stored)."""
    return url_for("imh.set_password", token=token, _external=True)


def _enrolment(offering: Offering, learner_id: int) -> Enrolment:
    enrolment = db.session.scalar(
        select(Enrolment)
        .where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner_id)
        .options(selectinload(Enrolment.user).selectinload(User.profile))
    )
    if enrolment is None:
        abort(404)
    return enrolment


@bp.route(OFFERING + "/enrolments")
@require_permission(Permission.ENROL_LEARNERS)
def enrolments(offering_id: int):
    """Who is enrolled, how the seat is funded, and whether they have set a password yet."""
    offering = get_or_404(Offering, offering_id)
    rows = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.offering_id == offering.id)
        .options(selectinload(Enrolment.user).selectinload(User.profile))
        .order_by(Enrolment.enrolled_dt, Enrolment.id)
    ).all()
    return render_template(
        "imh_course/coordinator/enrolments.html",
        offering=offering,
        rows=rows,
        lms_roster=bool(roster_links(offering.id)),
        funding_form=FundingForm(),
        action_form=ActionForm(),
    )


@bp.route(OFFERING + "/enrolments/lms-sync", methods=["POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrolments_lms_sync(offering_id: int):
    """Sync roster from the LMS: every LMS course linked to the offering (NRPS), as the admin's button
    does (new accounts, returning learners, those who left shown and not withdrawn; audited)."""
    offering = get_or_404(Offering, offering_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        report = sync_offering(coordinator_actor(), offering.id)
    except RosterError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.enrolments", offering_id=offering.id))
    db.session.commit()
    return render_template(
        "imh_course/lti/roster.html",
        report=report,
        source="the LMS",
        back_url=url_for("imh.enrolments", offering_id=offering.id),
        back_label=f"Enrolments · {offering.label}",
        section=f"{offering.label} · Teaching & admin",
    )


@bp.route(OFFERING + "/enrol", methods=["GET", "POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrol(offering_id: int):
    """Enrol one learner; a new account gets an invitation link shown here once."""
    offering = get_or_404(Offering, offering_id)
    form = EnrolForm()
    if form.validate_on_submit():
        data = LearnerData(
            name=form.name.data,
            email=form.email.data.lower(),
            discipline=form.discipline.data or None,
            license_type=form.license_type.data or None,
            license_number=form.license_number.data or None,
            funding=Funding(form.funding.data),
        )
        try:
            result = enrol_learner(coordinator_actor(), offering, data)
        except EnrolmentError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            return render_template(
                "imh_course/coordinator/enrolled.html",
                offering=offering,
                results=[result],
                invite_url=invite_url,
            )
    status = 400 if form.is_submitted() else 200
    return render_template("imh_course/coordinator/enrol.html", form=form, offering=offering), status


@bp.route(OFFERING + "/roster", methods=["GET", "POST"])
@require_permission(Permission.ENROL_LEARNERS)
def roster_import(offering_id: int):
    """Import a roster CSV: every line checked first; nothing imported unless all lines are valid."""
    offering = get_or_404(Offering, offering_id)
    form = RosterForm()
    problems = []
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            report = import_roster(coordinator_actor(), offering, raw)
        except RosterInvalid as exc:
            db.session.rollback()
            problems = exc.problems
        else:
            db.session.commit()
            return render_template(
                "imh_course/coordinator/enrolled.html",
                offering=offering,
                results=report.results,
                report=report,
                invite_url=invite_url,
            )
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/roster_import.html",
        form=form,
        offering=offering,
        problems=problems,
        columns=COLUMNS,
        license_help=LICENSE_HELP,
        funding_help=FUNDING_HELP,
    ), status


@bp.route(OFFERING + "/enrolments/<dbint:learner_id>/funding", methods=["POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrolment_funding(offering_id: int, learner_id: int):
    offering = get_or_404(Offering, offering_id)
    enrolment = _enrolment(offering, learner_id)
    form = FundingForm()
    if not form.validate_on_submit():
        abort(400)
    if set_funding(coordinator_actor(), enrolment, Funding(form.funding.data)):
        db.session.commit()
        flash(f"Funding of {enrolment.user.full_name} changed.", "success")
    return redirect(url_for("imh.enrolments", offering_id=offering.id) + f"#learner-{learner_id}")


@bp.route(OFFERING + "/enrolments/<dbint:learner_id>/status", methods=["GET", "POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrolment_status(offering_id: int, learner_id: int):
    """Withdraw an active enrolment, or reinstate a withdrawn one; a reason is required (audited)."""
    offering = get_or_404(Offering, offering_id)
    enrolment = _enrolment(offering, learner_id)
    form = ReasonForm()
    withdrawing = enrolment.status is not EnrolmentStatus.WITHDRAWN
    if form.validate_on_submit():
        try:
            (withdraw if withdrawing else reinstate)(coordinator_actor(), enrolment, form.reason.data)
        except EnrolmentError as exc:
            db.session.rollback()
            error_into(form, exc)
        else:
            db.session.commit()
            verb = "withdrawn" if withdrawing else "reinstated"
            flash(f"{enrolment.user.full_name}'s enrolment {verb}.", "success")
            return redirect(url_for("imh.enrolments", offering_id=offering.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/coordinator/enrolment_status.html",
        form=form,
        offering=offering,
        enrolment=enrolment,
        withdrawing=withdrawing,
    ), status


@bp.route(OFFERING + "/enrolments/<dbint:learner_id>/reset-link", methods=["POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrolment_reset_link(offering_id: int, learner_id: int):
    """Email a learner of this offering a password-reset link (or a fresh invitation if no password).

    The coordinator never sees the link: it goes only to the learner's own address, so this cannot
    be used to sign in as them. Audited as ``account.reset_link`` (or an invitation)."""
    offering = get_or_404(Offering, offering_id)
    enrolment = _enrolment(offering, learner_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    learner = enrolment.user
    try:
        kind, raw = account_link(coordinator_actor(), learner)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.enrolments", offering_id=offering.id))
    invite = kind is TokenPurpose.INVITE
    valid_for = link_validity(kind)
    deliver_account_link(learner, kind, external_url("imh.set_password", token=raw), valid_for)
    db.session.commit()
    if not invite:
        security_log.reset_link_issued(learner.id, ADMIN_RESET_TTL.total_seconds() / 3600)
    what = "An invitation" if invite else "A password-reset link"
    flash(
        f"{what} was emailed to {learner.full_name} ({learner.email}); it works once, for {valid_for}.",
        "success",
    )
    return redirect(url_for("imh.enrolments", offering_id=offering.id))


@bp.route(OFFERING + "/enrolments/<dbint:learner_id>/invite", methods=["POST"])
@require_permission(Permission.ENROL_LEARNERS)
def enrolment_invite(offering_id: int, learner_id: int):
    """A fresh invitation link for a learner who has not set a password yet (shown once)."""
    offering = get_or_404(Offering, offering_id)
    enrolment = _enrolment(offering, learner_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        token = new_invitation(coordinator_actor(), enrolment.user)
    except EnrolmentError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.enrolments", offering_id=offering.id))
    db.session.commit()
    return render_template(
        "imh_course/coordinator/invitation.html",
        offering=offering,
        learner=enrolment.user,
        link=invite_url(token),
    )
