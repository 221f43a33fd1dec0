"""Sign-in and sign-out."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db, limiter
from ..forms.auth import LoginForm, LogoutForm
from ..models.accounts import User
from ..models.types import utcnow
from ..security import log as security_log
from ..security import signin_throttle as security
from ..security.access import login_required_view, public
from ..security.auth import hash_password, needs_rehash, verify_password
from ..security.roles import Permission
from .blueprint import bp
from .helpers import is_safe_next

GENERIC_FAILURE = "That email and password do not match an account. Please try again."


def home_for(user: User) -> str:
    """Where a person lands after signing in: admins on their home, where the work is."""
    if user.can(Permission.MANAGE_ACCOUNTS):
        return url_for("imh.admin_home")
    if user.can(Permission.LEARN) and not (
        user.can(Permission.TAKE_ATTENDANCE) or user.can(Permission.MANAGE_OFFERINGS)
    ):
        return url_for("imh.learner_home")
    if user.can(Permission.TAKE_ATTENDANCE) or user.can(Permission.MANAGE_OFFERINGS):
        return url_for("imh.staff_home")
    return url_for("imh.course_page")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    """Sign in with email and password; one generic message for every failure.

    Failed attempts are throttled per address and per account by ``security`` in a hook that
    runs before CSRF, so token-less floods count too (a decorator here would not see them).
    """
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        ok = verify_password(user.password_hash if user else None, form.password.data or "")
        if user is None or not ok or not user.is_enabled:
            reason = "bad credentials" if user is None or not ok else "account disabled"
            security_log.signin_failed(email, reason)
            flash(GENERIC_FAILURE, "error")
            return render_template("imh_course/login.html", form=form), 200
        if needs_rehash(user.password_hash or ""):
            user.password_hash = hash_password(form.password.data or "")
        user.last_signin_dt = utcnow()  # shown on the admin's account list
        session.clear()  # a fresh session on sign-in (no fixation)
        login_user(user)
        security.signin_succeeded()
        target = form.next.data if is_safe_next(form.next.data) else home_for(user)
        user_id = user.id
        # Commit last: nothing after it reads, so the request leaves no transaction (and on
        # SQLite no write lock) behind it.
        db.session.commit()
        security_log.signin_succeeded(user_id)
        return redirect(target)
    status = 400 if request.method == "POST" else 200
    return render_template("imh_course/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required_view
def logout():
    """Sign out everywhere: the session token rotates, so a copied cookie stops working."""
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(home_for(current_user))
    user = db.session.get(User, current_user.id)
    user.rotate_session_token()
    db.session.commit()
    security_log.signed_out(user.id)
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("imh.login"))


@bp.route("/account/set-password/<token>", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@public
def set_password(token: str):
    """Set a password from an invitation or reset link: single use, expiring."""
    from ..forms.auth import SetPasswordForm
    from ..operations.accounts import password_problem
    from ..operations.tokens import consume_token, find_valid_token

    valid = find_valid_token(token)
    if valid is None:
        return render_template("imh_course/link_invalid.html"), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data or "", valid.user.email)
        if problem:
            form.password.errors.append(problem)
        else:
            used = consume_token(token)
            if used is None:
                return render_template("imh_course/link_invalid.html"), 404
            user = db.session.get(User, used.user_id)
            user.password_hash = hash_password(form.password.data or "")
            user.rotate_session_token()  # every other session of this account ends
            db.session.commit()
            security_log.password_changed(user.id, f"{used.purpose.value}-link")
            security.grant_signin_after_reset(user.email)  # a paused sign-in must not keep them out
            flash("Your password is set. Please sign in.", "success")
            return redirect(url_for("imh.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("imh_course/set_password.html", form=form), status
