"""The outbox page: what was queued, sent or failed (with the reason), and "retry now".

Coordinators and admins see the list; reading a message itself (it may hold a single-use link)
is for admins, who can reset any account anyway. File-delivered messages (the embedded default)
are read back from the mail folder by message id, never by a path from the request.
"""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..forms.coordinator import ActionForm
from ..mail.outbox import mail_folder, read_file_message, retry_now
from ..models.audit_chain import Actor, record_event
from ..models.outbox import OutboxMessage, OutboxStatus
from ..security.access import require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404

SHOWN = 200


@bp.route("/staff/outbox")
@require_permission(Permission.VIEW_OUTBOX)
def outbox():
    """The newest messages, optionally of one status, with counts per status."""
    wanted = request.args.get("status", "")
    status = OutboxStatus(wanted) if wanted in {s.value for s in OutboxStatus} else None
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    counts = dict(
        db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    )
    return render_template(
        "imh_course/outbox/list.html",
        rows=db.session.scalars(query).all(),
        counts={s: counts.get(s, 0) for s in OutboxStatus},
        status=status,
        form=ActionForm(),
        can_read=current_user.can(Permission.MANAGE_ACCOUNTS),
    )


@bp.route("/staff/outbox/<dbint:message_id>/retry", methods=["POST"])
@require_permission(Permission.VIEW_OUTBOX)
def outbox_retry(message_id: int):
    """Queue a failed (or waiting) message for the worker's next pass; audited."""
    row = get_or_404(OutboxMessage, message_id)
    form = ActionForm()
    if form.validate_on_submit():
        if retry_now(row):
            role = Role.ADMIN if current_user.has_role(Role.ADMIN) else Role.COORDINATOR
            actor = Actor(user=current_user, role=role.value, ip_address=client_ip())
            record_event(actor, "outbox.retry", "outbox_message", row.id, learner_id=None)
            db.session.commit()
            flash(f"Message {row.id} to {row.recipient} will be tried again shortly.", "success")
        else:
            flash("Only a failed or waiting message can be retried.", "info")
    return redirect(url_for("imh.outbox"))


@bp.route("/staff/outbox/<dbint:message_id>")
@require_permission(Permission.MANAGE_ACCOUNTS)
def outbox_message(message_id: int):
    """One message as written: headers and the plain-text part (from the row, else its file)."""
    row = get_or_404(OutboxMessage, message_id)
    text = None
    if row.content is not None:
        from email import message_from_string, policy

        parsed = message_from_string(row.content, policy=policy.default)
    else:
        parsed = read_file_message(mail_folder(current_app.config, current_app.instance_path), row.id)
    if parsed is not None:
        body = parsed.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else None
    return render_template("imh_course/outbox/message.html", row=row, text=text)
