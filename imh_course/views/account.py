"""A person's own account: change the password; ask for help with a forgotten one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request
from flask_login import current_user, login_user

from ..extensions import db, limiter
from ..forms.account import ChangePasswordForm, ForgotPasswordForm
from ..mail.notify import queue_password_reset
from ..models.accounts import TokenPurpose, User
from ..models.audit_chain import SYSTEM_ROLE, Actor, record_event
from ..operations.accounts import find_user, password_problem
from ..operations.tokens import issue_token
from ..rules.messages import choose
from ..security import log as security_log
from ..security.access import login_required_view, public
from ..security.auth import hash_password, verify_password
from ..security.roles import Role
from .auth import home_for
from .blueprint import bp

#: The same words for every address, so the page cannot tell who has an account (ASVS 2.5).
FORGOT_MESSAGE = (
    "Thank you. If that address belongs to an account, we have emailed it a link to set a new "
    "password (it works once, for 1 hour). For your security this page gives the same answer for "
    "every address."
)
_ROLE_ORDER = (Role.ADMIN, Role.COORDINATOR, Role.INSTRUCTOR, Role.LEARNER)


def _own_actor(user: User) -> Actor:
    role = next((r for r in _ROLE_ORDER if user.has_role(r)), Role.LEARNER)
    return Actor(user=user, role=role.value, ip_address=request.remote_addr)


def mail_reset_link(user: User) -> None:
    """A reset token, its audit event and the email, in the caller's transaction."""
    raw = issue_token(user, TokenPurpose.RESET)
    record_event(
        Actor(user=None, role=SYSTEM_ROLE, ip_address=request.remote_addr),
        "account.reset_link",
        "user",
        user.id,
        after={"valid_hours": 1, "requested": "forgot-password page"},
        learner_id=user.id if user.has_role(Role.LEARNER) else None,
    )
    queue_password_reset(user, raw)


def _per_person() -> str:
    return f"user:{current_user.id}"


@bp.route("/account/password", methods=["GET", "POST"])
@login_required_view
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_per_person)
def change_password():
    """Change the password with the current one; other sessions end, this one stays signed in."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = db.session.get(User, current_user.id)
        new_password = form.new_password.data or ""
        if not verify_password(user.password_hash, form.current_password.data or ""):
            form.current_password.errors.append("That is not your current password.")
            security_log.password_change_failed(user.id, "wrong current password")
        elif problem := password_problem(new_password, user.email):
            form.new_password.errors.append(problem)
        elif verify_password(user.password_hash, new_password):
            form.new_password.errors.append(choose("a password different from the current one"))
        else:
            user.password_hash = hash_password(new_password)
            user.rotate_session_token()  # every other session of this account ends
            record_event(
                _own_actor(user),
                "account.password_change",
                "user",
                user.id,
                learner_id=user.id if user.has_role(Role.LEARNER) else None,
            )
            db.session.commit()
            login_user(user)  # this session carries the new token and stays signed in
            security_log.password_changed(user.id, "self-service")
            flash("Your password is changed. Other devices you were signed in on are signed out.", "success")
            return redirect(home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("imh_course/account/change_password.html", form=form), status


@bp.route("/account/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5 per minute", methods=["POST"])
def forgot_password():
    """Always the same answer; a reset link is mailed (via the outbox) only to an enabled account."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = find_user(email)
        eligible = user is not None and user.is_enabled and user.erased_dt is None
        if eligible:
            mail_reset_link(user)
            db.session.commit()
        security_log.reset_requested(email, eligible)
        return render_template("imh_course/account/forgot.html", form=form, sent=True, message=FORGOT_MESSAGE)
    status = 400 if request.method == "POST" else 200
    return render_template("imh_course/account/forgot.html", form=form, sent=False), status
