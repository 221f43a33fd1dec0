"""The learner's certificate pages, and public verification at ``/verify/<id>``.

Learners evaluate the course, attest their attendance, see what is still missing and download
their own certificate and endorsement training log; anyone holding a certificate can check it at
``/verify/<id>``. The coordinator's side (issue, reissue, revoke, the evaluation summary) is in
``views/certificate_issuing.py``, which shares :func:`attachment` and :func:`pdf_filename`.
"""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..documents._pdf import format_date, format_date_range
from ..documents.certificate import TITLES, CertificateFacts, facts_digest
from ..documents.training_log import training_log_csv, training_log_pdf
from ..extensions import db, limiter
from ..forms.certificates import AttestationForm, EvaluationForm
from ..models.certificates import Certificate, CertificateStatus
from ..models.offerings import Enrolment, EnrolmentStatus, Offering
from ..models.types import utcnow
from ..operations.certificates import Standing, learner_standing
from ..operations.evaluation import (
    EvaluationError,
    attest_attendance,
    attestation_statement,
    evaluation_submitted,
    submit_evaluation,
)
from ..records.certificate_facts import build_training_log, local_date
from ..records.ledgers import completion_policy
from ..rules.completion import CertificateKind
from ..rules.licenses import BOARD_LABELS
from ..rules.prospects import Prospects, prospects
from ..security.access import public, require_permission
from ..security.roles import Permission
from .blueprint import bp
from .learner_common import learner_actor, require_writable, studied_offering

#: Verification is public: a modest limit per address stops enumeration without bothering anyone.
VERIFY_LIMIT = "30 per minute"
_PUBLIC_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def attachment(body: bytes | str, mimetype: str, filename: str) -> Response:
    """A download: the body with ``Content-Disposition: attachment`` and the given file name."""
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
    return attachment(certificate.pdf, "application/pdf", pdf_filename(certificate))


def pdf_filename(certificate: Certificate) -> str:
    """The file name of one certificate version's PDF, for the learner and the coordinator alike."""
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
    return attachment(training_log_csv(log).encode("utf-8"), "text/csv", filename)


@bp.route("/learn/offerings/<dbint:offering_id>/training-log.pdf")
@require_permission(Permission.LEARN)
def training_log_pdf_download(offering_id: int):
    """The endorsement training log as PDF, with separate face-to-face and independent totals."""
    offering, log = _my_training_log(offering_id)
    filename = f"imh-training-log-{offering.term.value}-{offering.year}.pdf"
    return attachment(training_log_pdf(log), "application/pdf", filename)


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
