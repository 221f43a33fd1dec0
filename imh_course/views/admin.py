"""The admin's pages: a home, the account list, and every account task without a shell.

Each action is a POST form with CSRF, refused with a message (never a 500) when a rule says no,
and audited by ``operations.account_admin``. Invitation and reset links go out through
``deliver_account_link``, which queues the email in the outbox.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..forms.admin import ROLE_LABELS, AccountForm, AccountSearchForm
from ..forms.coordinator import ActionForm, ReasonForm
from ..mail.notify import external_url
from ..models.accounts import TokenPurpose, User, UserRole
from ..models.audit_chain import Actor
from ..models.offerings import Enrolment
from ..operations.account_admin import (
    ADMIN_RESET_TTL,
    AccountData,
    account_link,
    create_account,
    link_validity,
    set_enabled,
    sign_out_everywhere,
    update_account,
)
from ..operations.accounts import AccountError, deliver_account_link
from ..rules.accounts import account_status
from ..security import log as security_log
from ..security.access import require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404, page_number

PAGE_SIZE = 25
ACCOUNT = "/admin/accounts/<dbint:user_id>"


def admin_actor() -> Actor:
    return Actor(user=current_user, role=Role.ADMIN.value, ip_address=client_ip())


def _status(user: User) -> str:
    return account_status(
        is_enabled=user.is_enabled,
        has_password=user.password_hash is not None,
        erased=user.erased_dt is not None,
    )


def _search(query: Select, text: str | None) -> Select:
    """Name or email containing ``text``, case-insensitively, in SQL (``%`` and ``_`` are literal)."""
    if not text:
        return query
    return query.where(
        or_(User.full_name.icontains(text, autoescape=True), User.email.icontains(text, autoescape=True))
    )


@bp.route("/admin")
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_home():
    """Where an admin lands: accounts at a glance and the way to each admin task."""
    counts = dict(
        db.session.execute(
            select(
                func.count(User.id).label("all"),
                func.count(User.id)
                .filter(User.is_enabled.is_(False), User.erased_dt.is_(None))
                .label("disabled"),
                func.count(User.id)
                .filter(User.password_hash.is_(None), User.is_enabled.is_(True))
                .label("invited"),
            )
        )
        .one()
        ._mapping
    )
    return render_template("imh_course/admin/home.html", counts=counts, admins=admin_count())


@bp.route("/admin/accounts")
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_accounts():
    """Every account, searchable by name or email, a page at a time (sorted by name)."""
    form = AccountSearchForm(formdata=request.args)
    valid = form.validate()
    page = page_number()
    text = form.q.data if valid else None
    query = _search(select(User), text)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    users = db.session.scalars(
        query.order_by(func.lower(User.full_name), User.id)
        .offset(((page or 1) - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    ids = [u.id for u in users]
    enrolments = (
        dict(
            db.session.execute(
                select(Enrolment.user_id, func.count())
                .where(Enrolment.user_id.in_(ids))
                .group_by(Enrolment.user_id)
            ).all()
        )
        if ids
        else {}
    )
    pages = max(1, -(-total // PAGE_SIZE))
    args = {"q": text} if text else {}
    current = page or 1
    return render_template(
        "imh_course/admin/accounts.html",
        form=form,
        users=users,
        statuses={u.id: _status(u) for u in users},
        enrolments=enrolments,
        total=total,
        page=current,
        pages=pages,
        bad_page=page is None,
        role_labels=ROLE_LABELS,
        first_url=url_for("imh.admin_accounts", **args),
        prev_url=url_for("imh.admin_accounts", **args, page=current - 1) if 1 < current <= pages else None,
        next_url=url_for("imh.admin_accounts", **args, page=current + 1) if current < pages else None,
        timezone=current_app.config["IMH_TIMEZONE"],
    ), (200 if valid and page is not None else 400)


def _account_data(form: AccountForm) -> AccountData:
    return AccountData(
        full_name=form.full_name.data or "",
        email=form.email.data or "",
        roles=frozenset(Role(r) for r in form.roles.data or ()),
    )


def _link_page(user: User, kind: TokenPurpose, raw: str, *, created: bool) -> str:
    """Hand the link over (in this transaction), commit, and show what became of it."""
    valid_for = link_validity(kind)
    delivery = deliver_account_link(user, kind, external_url("imh.set_password", token=raw), valid_for)
    db.session.commit()
    if kind is TokenPurpose.RESET:
        security_log.reset_link_issued(user.id, ADMIN_RESET_TTL.total_seconds() / 3600)
    return render_template(
        "imh_course/admin/link.html",
        user=user,
        kind=kind.value,
        link=delivery.shown_link,
        created=created,
        valid_for=valid_for,
    )


@bp.route("/admin/accounts/new", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_account_new():
    """Create an account; the person gets an invitation link to set their own password."""
    form = AccountForm()
    if form.validate_on_submit():
        try:
            user, raw = create_account(admin_actor(), _account_data(form))
        except AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            return _link_page(user, TokenPurpose.INVITE, raw, created=True)
    status = 400 if form.is_submitted() else 200
    return render_template("imh_course/admin/account_new.html", form=form), status


def _account_page(user: User, form: AccountForm, status: int = 200):  # noqa: ANN202
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.user_id == user.id)
        .options(selectinload(Enrolment.offering))
        .order_by(Enrolment.enrolled_dt.desc(), Enrolment.id.desc())
    ).all()
    return render_template(
        "imh_course/admin/account.html",
        user=user,
        form=form,
        status=_status(user),
        enrolments=enrolments,
        action_form=ActionForm(),
        role_labels=ROLE_LABELS,
        timezone=current_app.config["IMH_TIMEZONE"],
    ), status


@bp.route(ACCOUNT, methods=["GET", "POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_account(user_id: int):
    """One account: its details and enrolments, the edit form and the account actions."""
    user = get_or_404(User, user_id)
    form = AccountForm()
    if request.method == "GET":
        form.full_name.data, form.email.data = user.full_name, user.email
        form.roles.data = [r.value for r in sorted(user.role_set)]
    elif form.validate_on_submit():
        try:
            changed = update_account(admin_actor(), user, _account_data(form))
        except AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(
                "The account is saved." if changed else "Nothing changed.", "success" if changed else "info"
            )
            return redirect(url_for("imh.admin_account", user_id=user.id))
    return _account_page(user, form, 400 if request.method == "POST" else 200)


@bp.route(ACCOUNT + "/status", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_account_status(user_id: int):
    """Disable (signs the person out at once) or re-enable an account, with a reason."""
    user = get_or_404(User, user_id)
    disabling = user.is_enabled
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            set_enabled(admin_actor(), user, not disabling, form.reason.data or "")
        except AccountError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"{user.full_name}'s account is {'disabled' if disabling else 'enabled again'}.", "success")
            return redirect(url_for("imh.admin_account", user_id=user.id))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/admin/account_status.html", user=user, form=form, disabling=disabling
    ), status


@bp.route(ACCOUNT + "/sign-out", methods=["POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_account_sign_out(user_id: int):
    """End every session of the account (a lost phone, a shared computer)."""
    user = get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    myself = user.id == current_user.id
    sign_out_everywhere(admin_actor(), user)
    db.session.commit()
    if myself:  # this session was one of them
        logout_user()
        session.clear()
        flash("You are signed out everywhere, here too. Please sign in again.", "info")
        return redirect(url_for("imh.login"))
    flash(f"{user.full_name} is signed out on every device.", "success")
    return redirect(url_for("imh.admin_account", user_id=user.id))


@bp.route(ACCOUNT + "/link", methods=["POST"])
@require_permission(Permission.MANAGE_ACCOUNTS)
def admin_account_link(user_id: int):
    """A fresh invitation link (no password set yet) or password-reset link for the account."""
    user = get_or_404(User, user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        kind, raw = account_link(admin_actor(), user)
    except AccountError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.admin_account", user_id=user.id))
    return _link_page(user, kind, raw, created=False)


def admin_count() -> int:
    """Enabled admins (for the admin home's reminder that one must always remain)."""
    return db.session.scalar(
        select(func.count(func.distinct(User.id)))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN, User.is_enabled.is_(True))
    )
