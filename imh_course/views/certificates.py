"""Evaluation, attestation, certificates, the endorsement training log and public verification.

Learners evaluate the course, attest their attendance, see what is still missing and download
their own documents; coordinators issue, reissue and revoke per learner and read the anonymous
evaluation summary; anyone holding a certificate can check it at ``/verify/<id>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import defer

from ..documents._pdf import format_date, format_date_range, unsupported_characters
from ..documents.certificate import TITLES, CertificateFacts, facts_digest
from ..documents.training_log import training_log_csv, training_log_pdf
from ..extensions import db, limiter
from ..forms.certificates import AttestationForm, EvaluationForm, IssueForm, ReissueForm, RevokeForm
from ..models.accounts import User
from ..models.audit_chain import Actor
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import Enrolment, EnrolmentStatus, Offering
from ..models.types import utcnow
from ..operations.certificates import (
    CertificateError,
    NotEligible,
    Standing,
    issue_certificate,
    learner_standing,
    reissue_certificate,
    revoke_certificate,
)
from ..operations.evaluation import (
    MIN_RESPONSES,
    RATING_QUESTIONS,
    EvaluationError,
    attest_attendance,
    attestation_statement,
    evaluation_submitted,
    evaluation_summary,
    submit_evaluation,
)
from ..operations.stale_certificates import stale_certificates
from ..records.certificate_facts import build_training_log, certificate_name, local_date
from ..records.ledgers import completion_policy
from ..reports.matrix import LearnerRow
from ..reports.matrix_data import load_matrix
from ..rules.completion import CertificateKind
from ..rules.licenses import BOARD_LABELS
from ..rules.prospects import Prospects, prospects
from ..security.access import public, require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import get_or_404
from .learner_common import learner_actor, require_writable, studied_offering

#: Verification is public: a modest limit per address stops enumeration without bothering anyone.
VERIFY_LIMIT = "30 per minute"
_PUBLIC_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# --- learner ------------------------------------------------------------------------------------
@bp.route("/learn/offerings/<dbint:offering_id>/evaluation", methods=["GET", "POST"])
@require_permission(Permission.LEARN)
def evaluation(offering_id: int):
    """The end-of-course evaluation: three ratings and optional comments, stored without your name."""
    offering, enrolment = studied_offering(offering_id)
    submitted = evaluation_submitted(offering.id, current_user.id)
    form = EvaluationForm()
    status = 200
    if request.method == "POST":
        require_writable(enrolment)
        if submitted:
            flash("You have already submitted the evaluation. Thank you!", "info")
            return redirect(url_for("imh.learner_certificates", offering_id=offering.id))
        if form.validate_on_submit():
            try:
                submit_evaluation(learner_actor(), offering, form.ratings(), form.comments.data)
            except EvaluationError as exc:
                db.session.rollback()
                form.comments.errors = [*form.comments.errors, str(exc)]
                status = 400
            else:
                db.session.commit()
                flash("Thank you: your evaluation is submitted.", "success")
                return redirect(url_for("imh.learner_certificates", offering_id=offering.id))
        else:
            status = 400
    return render_template(
        "imh_course/certificates/evaluation.html",
        offering=offering,
        form=form,
        submitted=submitted,
        read_only=enrolment.status is EnrolmentStatus.WITHDRAWN,
    ), status


def standing_prospects(standing: Standing) -> Prospects:
    """What this learner will actually receive (``rules.prospects``), from their standing."""
    ledger = standing.ledger
    return prospects(
        standing.ce_standing,
        standing.face_to_face,
        credited_minutes=ledger.ce_minutes,
        meetings_credited=ledger.meetings_credited,
        meetings_total=sum(1 for s in ledger.sessions if s.meeting is not None),
        meetings_remaining=ledger.meetings_remaining,
        completion=standing.completion,
        min_meetings=completion_policy(current_app.config).min_meetings,
    )


def _learner_status_page(offering: Offering, enrolment: Enrolment, form: AttestationForm | None, status: int):
    standing = learner_standing(offering, current_user)
    ce = standing.kind is CertificateKind.CE
    if form is None:
        form = AttestationForm()
    form.ce_minutes.data = str(standing.ledger.ce_minutes)
    return render_template(
        "imh_course/certificates/learner_status.html",
        offering=offering,
        standing=standing,
        f2f=standing.face_to_face,
        prospects=standing_prospects(standing),
        form=form,
        statement=attestation_statement(offering, standing.ledger, ce=ce),
        read_only=enrolment.status is EnrolmentStatus.WITHDRAWN,
        titles=TITLES,
        board_labels=BOARD_LABELS,
        older=[c for c in standing.certificates if c.status is not CertificateStatus.VALID],
    ), status


@bp.route("/learn/offerings/<dbint:offering_id>/certificates")
@require_permission(Permission.LEARN)
def learner_certificates(offering_id: int):
    """Evaluation, attestation and certificate: what is done, what is missing, and the downloads."""
    offering, enrolment = studied_offering(offering_id)
    return _learner_status_page(offering, enrolment, None, 200)


@bp.route("/learn/offerings/<dbint:offering_id>/attest", methods=["POST"])
@require_permission(Permission.LEARN)
def attest(offering_id: int):
    """Attest that the recorded attendance (the CE hours shown) is accurate."""
    offering, enrolment = studied_offering(offering_id)
    require_writable(enrolment)
    form = AttestationForm()
    if not form.validate_on_submit():
        return _learner_status_page(offering, enrolment, form, 400)
    standing = learner_standing(offering, current_user)
    try:
        attest_attendance(
            learner_actor(),
            offering,
            standing.ledger,
            int(form.ce_minutes.data),
            ce=standing.kind is CertificateKind.CE,
            allow_zero=standing_prospects(standing).can_attest,
        )
    except EvaluationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.learner_certificates", offering_id=offering.id))
    db.session.commit()
    flash("Thank you: your attestation is recorded.", "success")
    return redirect(url_for("imh.learner_certificates", offering_id=offering.id))


@bp.route("/learn/certificates/<public_id>.pdf")
@require_permission(Permission.LEARN)
def download_certificate(public_id: str):
    """The learner's own valid certificate as a PDF (anyone else's looks like nothing at all)."""
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.public_id == public_id, Certificate.user_id == current_user.id)
    )
    if certificate is None or certificate.status is not CertificateStatus.VALID:
        abort(404)
    return _attachment(certificate.pdf, "application/pdf", _pdf_filename(certificate))


def _pdf_filename(certificate: Certificate) -> str:
    return f"imh-certificate-{certificate.public_id}-v{certificate.version}.pdf"


def _my_training_log(offering_id: int):  # noqa: ANN202
    offering, _enrolment = studied_offering(offering_id)
    standing_ledger = learner_standing(offering, current_user).ledger
    log = build_training_log(
        offering,
        current_user,
        standing_ledger,
        provider_name=current_app.config["IMH_PROVIDER_NAME"],
        generated_on=local_date(utcnow(), offering.timezone),
    )
    return offering, log


@bp.route("/learn/offerings/<dbint:offering_id>/training-log.csv")
@require_permission(Permission.LEARN)
def training_log_csv_download(offering_id: int):
    """The endorsement training log as CSV: attended meetings, then independent study (not CE)."""
    offering, log = _my_training_log(offering_id)
    filename = f"imh-training-log-{offering.term.value}-{offering.year}.csv"
    return _attachment(training_log_csv(log).encode("utf-8"), "text/csv", filename)


@bp.route("/learn/offerings/<dbint:offering_id>/training-log.pdf")
@require_permission(Permission.LEARN)
def training_log_pdf_download(offering_id: int):
    """The endorsement training log as PDF, with separate face-to-face and independent totals."""
    offering, log = _my_training_log(offering_id)
    filename = f"imh-training-log-{offering.term.value}-{offering.year}.pdf"
    return _attachment(training_log_pdf(log), "application/pdf", filename)


# --- coordinator --------------------------------------------------------------------------------
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
    return _attachment(certificate.pdf, "application/pdf", _pdf_filename(certificate))


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


# --- public -------------------------------------------------------------------------------------
@bp.route("/verify/<public_id>")
@public
@limiter.limit(VERIFY_LIMIT)
def verify_certificate(public_id: str):
    """The certified facts and status of one certificate; an unknown id is a plain "not found"."""
    certificate = None
    if 0 < len(public_id) <= 64 and set(public_id) <= _PUBLIC_ID_CHARS:
        certificate = db.session.scalar(select(Certificate).where(Certificate.public_id == public_id))
    if certificate is None:
        response = Response(render_template("imh_course/certificates/verify_not_found.html"), status=404)
    else:
        try:
            facts: CertificateFacts | None = CertificateFacts.from_dict(certificate.facts)
        except (TypeError, ValueError):
            facts = None
        revoked = certificate.revoked_dt
        response = Response(
            render_template(
                "imh_course/certificates/verify.html",
                certificate=certificate,
                facts=facts,
                intact=facts is not None and facts_digest(facts) == certificate.facts_hash,
                title=TITLES[facts.kind] if facts else "Certificate",
                revoked_on=local_date(revoked, current_app.config["IMH_TIMEZONE"]) if revoked else None,
                Status=CertificateStatus,
                CE=CertificateKind.CE,
                format_date=format_date,
                format_date_range=format_date_range,
            )
        )
    # The status can change (revocation): never serve a stale "valid"; keep it out of search engines.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
