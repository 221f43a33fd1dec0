"""The coordinator's certificate pages: issue, reissue and revoke per learner; the evaluation summary.

One offering's certificate page lists every enrolled learner with the completion matrix's
eligibility (the same bulk issue uses) and every version of their certificate; the needs-reissue
page lists valid certificates whose records changed since issue. Actions return to the page they
came from (a form's ``back`` field). Split from ``views/certificates.py`` (the learner's side);
endpoint names and URLs are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer

from ..documents._pdf import unsupported_characters
from ..documents.certificate import TITLES
from ..extensions import db
from ..forms.certificates import IssueForm, ReissueForm, RevokeForm
from ..models.accounts import User
from ..models.audit_chain import Actor
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import Enrolment, Offering
from ..models.types import utcnow
from ..operations.certificates import (
    CertificateError,
    NotEligible,
    issue_certificate,
    reissue_certificate,
    revoke_certificate,
)
from ..operations.evaluation import MIN_RESPONSES, RATING_QUESTIONS, evaluation_summary
from ..operations.stale_certificates import stale_certificates
from ..records.certificate_facts import certificate_name
from ..reports.matrix import LearnerRow
from ..reports.matrix_data import load_matrix
from ..security.access import require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .certificates import attachment, pdf_filename
from .helpers import get_or_404


def _staff_actor() -> Actor:
    return Actor(user=current_user, role=Role.COORDINATOR.value, ip_address=request.remote_addr)


#: where a certificate action returns (a form's "back" field; anything else: the certificates page)
BACK_PAGES = {"needs_reissue": "imh.needs_reissue"}


def _back(offering_id: int, learner_id: int | None = None) -> Response:
    page = BACK_PAGES.get(request.form.get("back", ""), "imh.staff_certificates")
    anchor = (
        ""
        if not learner_id
        else f"#stale-{learner_id}"
        if page != "imh.staff_certificates"
        else f"#learner-{learner_id}"
    )
    return redirect(url_for(page, offering_id=offering_id) + anchor)


@dataclass(frozen=True)
class StaffCertificateRow:
    """One learner on the coordinator's certificate page: the completion-matrix row (the same
    eligibility bulk issue uses) and every version of their certificate, newest first."""

    row: LearnerRow
    certificates: tuple[Certificate, ...]

    @property
    def valid(self) -> Certificate | None:
        return next((c for c in self.certificates if c.status is CertificateStatus.VALID), None)

    @property
    def older(self) -> list[Certificate]:
        return [c for c in self.certificates if c.status is not CertificateStatus.VALID]

    @property
    def unprintable(self) -> str:
        return unsupported_characters(self.row.learner.name)


def _offering_certificates(offering_id: int) -> dict[int, list[Certificate]]:
    """Every certificate version of the offering by learner, newest first (one statement, no PDFs)."""
    found: dict[int, list[Certificate]] = {}
    for certificate in db.session.scalars(
        select(Certificate)
        .where(Certificate.offering_id == offering_id)
        .options(defer(Certificate.pdf), defer(Certificate.facts))
        .order_by(Certificate.user_id, Certificate.version.desc())
    ):
        found.setdefault(certificate.user_id, []).append(certificate)
    return found


@bp.route("/staff/offerings/<dbint:offering_id>/certificates")
@require_permission(Permission.ISSUE_CERTIFICATES)
def staff_certificates(offering_id: int):
    """Every enrolled learner's eligibility, what is missing, and issue / reissue / revoke.

    Loaded like the completion matrix (a fixed number of statements, whatever the cohort's size).
    """
    offering = get_or_404(Offering, offering_id)
    matrix = load_matrix(offering)
    certificates = _offering_certificates(offering.id)
    rows = sorted(
        (StaffCertificateRow(row, tuple(certificates.get(row.user_id, ()))) for row in matrix.rows),
        key=lambda r: r.row.learner.name.casefold(),
    )
    now = utcnow()
    return render_template(
        "imh_course/certificates/staff_certificates.html",
        offering=offering,
        rows=rows,
        issue_form=IssueForm(),
        reissue_form=ReissueForm(),
        revoke_form=RevokeForm(),
        titles=TITLES,
        sessions_ahead=sum(1 for m in matrix.frame.meetings.values() if m.end > now),
        stale=stale_certificates(offering, matrix.rows),
    )


@bp.route("/staff/offerings/<dbint:offering_id>/certificates/needs-reissue")
@require_permission(Permission.ISSUE_CERTIFICATES, Permission.VIEW_AUDIT_TRAIL)
def needs_reissue(offering_id: int):
    """Valid certificates whose records changed since issue, with the changes and a reissue form.

    Coordinators reissue here; admins (who hold the audit trail) read it. Learners see nothing of
    it: their documents and /verify keep what was certified until the coordinator reissues.
    """
    offering = get_or_404(Offering, offering_id)
    return render_template(
        "imh_course/certificates/needs_reissue.html",
        offering=offering,
        stale=list(stale_certificates(offering).values()),
        can_issue=current_user.can(Permission.ISSUE_CERTIFICATES),
        titles=TITLES,
    )


def _learner_in(offering: Offering, learner_id: int) -> User:
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == learner_id)
    )
    if enrolment is None:
        abort(404)
    return enrolment.user


@bp.route("/staff/offerings/<dbint:offering_id>/certificates/<dbint:learner_id>/issue", methods=["POST"])
@require_permission(Permission.ISSUE_CERTIFICATES)
def issue(offering_id: int, learner_id: int):
    """Issue one learner's certificate (again returns the existing valid one, never a second)."""
    offering = get_or_404(Offering, offering_id)
    learner = _learner_in(offering, learner_id)
    if not IssueForm().validate_on_submit():
        abort(400)
    name = certificate_name(learner)
    try:
        outcome = issue_certificate(_staff_actor(), offering, learner)
    except NotEligible as exc:  # its message names the learner already, in staff wording
        db.session.rollback()
        flash(str(exc), "error")
        return _back(offering.id, learner.id)
    except CertificateError as exc:
        db.session.rollback()
        flash(f"{name}: {exc}", "error")
        return _back(offering.id, learner.id)
    db.session.commit()
    if outcome.created:
        flash(f"Certificate issued to {name} ({outcome.certificate.public_id}).", "success")
    else:
        flash(f"{name} already has a valid certificate ({outcome.certificate.public_id}).", "info")
    return _back(offering.id, learner.id)


def _offering_certificate(offering: Offering, public_id: str) -> Certificate:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.public_id == public_id, Certificate.offering_id == offering.id)
    )
    if certificate is None:
        abort(404)
    return certificate


@bp.route("/staff/offerings/<dbint:offering_id>/certificates/<public_id>/reissue", methods=["POST"])
@require_permission(Permission.ISSUE_CERTIFICATES)
def reissue(offering_id: int, public_id: str):
    """Reissue from fresh facts as a new version; the old version becomes superseded."""
    offering = get_or_404(Offering, offering_id)
    certificate = _offering_certificate(offering, public_id)
    form = ReissueForm()
    learner_id = certificate.user_id
    if not form.validate_on_submit():
        flash("Give a reason to reissue a certificate.", "error")
        return _back(offering.id, learner_id)
    try:
        new = reissue_certificate(_staff_actor(), certificate, form.reason.data)
    except CertificateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(offering.id, learner_id)
    db.session.commit()
    flash(
        f"Version {new.version} issued ({new.public_id}); version {new.version - 1} is superseded.", "success"
    )
    return _back(offering.id, learner_id)


@bp.route("/staff/offerings/<dbint:offering_id>/certificates/<public_id>/revoke", methods=["POST"])
@require_permission(Permission.ISSUE_CERTIFICATES)
def revoke(offering_id: int, public_id: str):
    """Revoke the valid certificate, with a reason; its verification page then says revoked."""
    offering = get_or_404(Offering, offering_id)
    certificate = _offering_certificate(offering, public_id)
    form = RevokeForm()
    learner_id = certificate.user_id
    if not form.validate_on_submit():
        flash("Give a reason to revoke a certificate.", "error")
        return _back(offering.id, learner_id)
    try:
        revoke_certificate(_staff_actor(), certificate, form.reason.data)
    except CertificateError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _back(offering.id, learner_id)
    db.session.commit()
    flash(f"Certificate {public_id} is revoked.", "success")
    return _back(offering.id, learner_id)


@bp.route("/staff/certificates/<public_id>.pdf")
@require_permission(Permission.ISSUE_CERTIFICATES)
def staff_download_certificate(public_id: str):
    """Any version of a certificate, as stored, for the coordinator's records."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.public_id == public_id))
    if certificate is None:
        abort(404)
    return attachment(certificate.pdf, "application/pdf", pdf_filename(certificate))


@bp.route("/staff/offerings/<dbint:offering_id>/evaluations")
@require_permission(Permission.MANAGE_OFFERINGS)
def evaluation_summary_page(offering_id: int):
    """Anonymous summary: counts, averages and comments, from MIN_RESPONSES answers on."""
    offering = get_or_404(Offering, offering_id)
    enrolled = db.session.scalar(
        select(db.func.count()).select_from(Enrolment).where(Enrolment.offering_id == offering.id)
    )
    return render_template(
        "imh_course/certificates/evaluation_summary.html",
        offering=offering,
        summary=evaluation_summary(offering),
        enrolled=enrolled,
        minimum=MIN_RESPONSES,
        questions=RATING_QUESTIONS,
    )
