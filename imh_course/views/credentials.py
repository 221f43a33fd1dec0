"""Open Badges 3.0: the learner's credential download, the public keys, the status list, /verify.

The download follows the PDF's rule (the learner's own valid certificate; anyone else's is a
404). The JWKS and the status list are public and signed material only. ``/verify`` takes a
pasted or uploaded credential (CSRF-protected form, 64 KB at most) and says what it states and
whether it stands, or why it is invalid.
"""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..credentials import issue, keys
from ..credentials.badge import MEDIA_TYPE
from ..credentials.verify import verify_credential
from ..database import begin_write
from ..extensions import db, limiter
from ..forms.credentials import VerifyCredentialForm
from ..models.certificates import Certificate, CertificateStatus
from ..security.access import public, require_permission
from ..security.roles import Permission
from .blueprint import bp
from .certificates import VERIFY_LIMIT
from .learner_common import learner_actor


def _own_valid_certificate(public_id: str) -> Certificate:
    certificate = db.session.scalar(
        select(Certificate).where(Certificate.public_id == public_id, Certificate.user_id == current_user.id)
    )
    if certificate is None or certificate.status is not CertificateStatus.VALID:
        abort(404)
    return certificate


@bp.route("/learn/certificates/<public_id>.jwt")
@require_permission(Permission.LEARN)
def download_credential(public_id: str):
    """The learner's own valid certificate as a signed Open Badges 3.0 credential (made on first use)."""
    certificate = _own_valid_certificate(public_id)
    credential = issue.stored_credential(certificate)
    if credential is None:
        # A GET reads in a deferred transaction; SQLite cannot upgrade it to a write under WAL
        # ("database is locked"), so end the read and start over holding the write lock.
        db.session.rollback()
        begin_write()
        certificate = _own_valid_certificate(public_id)
        try:
            credential = issue.credential_for(learner_actor(), certificate)
        except issue.CredentialUnavailable as exc:
            db.session.rollback()
            flash(f"The digital credential is not available: {exc}", "error")
            return redirect(url_for("imh.learner_certificates", offering_id=certificate.offering_id))
        db.session.commit()
    filename = f"imh-credential-{certificate.public_id}-v{certificate.version}.jwt"
    return Response(
        credential.token,
        mimetype=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/credentials/jwks.json")
@public
def credential_jwks():
    """Every signing key's public half, retired ones included (they verify what they signed)."""
    prefix = issue.kid_prefix()
    response = jsonify({"keys": [keys.public_jwk(row, prefix) for row in keys.all_keys()]})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/credentials/status-list.jwt")
@public
def credential_status_list():
    """The signed Bitstring Status List: the bits of superseded and revoked credentials are set."""
    try:
        token = issue.status_list_token()
    except issue.CredentialUnavailable:
        abort(404)
    response = Response(token, mimetype=MEDIA_TYPE)
    response.headers["Cache-Control"] = "no-store"  # a revocation shows at once
    return response


@bp.route("/verify", methods=["GET", "POST"])
@public
@limiter.limit(VERIFY_LIMIT, methods=["POST"])
def verify_credential_page():
    """Check a pasted or uploaded credential: its facts and status, or why it is invalid."""
    form = VerifyCredentialForm()
    verdict = None
    status = 200
    if form.is_submitted():
        token = form.token() if form.validate() else None
        if token is None:
            status = 400
        else:
            verdict = verify_credential(token)
    response = Response(
        render_template("imh_course/certificates/verify_credential.html", form=form, verdict=verdict),
        status=status,
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
