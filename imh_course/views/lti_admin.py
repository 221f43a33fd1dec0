"""Admin pages for LTI: register platforms, connect LMS links to offerings, link LMS identities.

Every change is a CSRF-protected form, audited by :mod:`.platforms`; bad input re-renders with a
message and changes nothing. The setup page shows exactly what to paste into Moodle and Canvas,
built from this deployment's address (``IMH_BASE_URL``, else the request's).
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..forms.coordinator import ActionForm
from ..forms.lti import PlatformForm, ResourceLinkForm, UserLinkForm
from ..lti import keys
from ..lti.platforms import (
    PlatformData,
    PlatformError,
    connect_resource_link,
    create_platform,
    relink_user,
    update_platform,
)
from ..lti.roster import RosterError, sync_roster
from ..lti.urls import tool_urls
from ..models.audit_chain import Actor
from ..models.curriculum import CourseSession
from ..models.lti import LtiPlatform, LtiResourceLink, LtiToolKey, LtiUserLink
from ..models.offerings import Offering
from ..security.access import require_permission
from ..security.roles import Permission, Role
from .blueprint import bp
from .helpers import client_ip, get_or_404

CANVAS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def _actor() -> Actor:
    return Actor(user=current_user, role=Role.ADMIN.value, ip_address=client_ip())


@bp.route("/admin/lti")
@require_permission(Permission.MANAGE_LTI)
def lti_admin():
    """Registered platforms, the tool's keys, LMS links and LMS identities."""
    platforms = list(db.session.scalars(select(LtiPlatform).order_by(LtiPlatform.name)))
    links = list(db.session.scalars(select(LtiResourceLink).order_by(LtiResourceLink.id.desc()).limit(100)))
    people = list(db.session.scalars(select(LtiUserLink).order_by(LtiUserLink.id.desc()).limit(100)))
    tool_keys = list(db.session.scalars(select(LtiToolKey).order_by(LtiToolKey.id.desc()).limit(10)))
    signing = keys.signing_key()
    return render_template(
        "imh_course/lti/admin.html", platforms=platforms, links=links, people=people, tool_keys=tool_keys,
        signing=signing, urls=tool_urls(),
    )  # fmt: skip


def _data(form: PlatformForm) -> PlatformData:
    return PlatformData(
        name=form.name.data or "",
        issuer=form.issuer.data or "",  # exactly as the LMS sends it: iss is compared byte for byte
        client_id=form.client_id.data or "",
        deployment_ids=form.deployment_list(),
        auth_url=form.auth_url.data or "",
        token_url=form.token_url.data or "",
        jwks_url=form.jwks_url.data or None,
        jwks_json=form.jwks_json.data or None,
        frame_origins=form.origin_list(),
        is_enabled=bool(form.is_enabled.data),
    )


@bp.route("/admin/lti/platforms/new", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_LTI)
def lti_platform_new():
    """Register the tool's registration in one LMS (the values the LMS showed after you added the tool)."""
    form = PlatformForm()
    if form.validate_on_submit():
        try:
            platform = create_platform(_actor(), _data(form))
        except PlatformError as exc:
            db.session.rollback()
            form.issuer.errors.append(str(exc))
        else:
            db.session.commit()
            flash(f"Platform {platform.name} registered.", "success")
            return redirect(url_for("imh.lti_admin"))
    status = 400 if form.is_submitted() else 200
    return render_template("imh_course/lti/platform.html", form=form, platform=None, urls=tool_urls()), status


@bp.route("/admin/lti/platforms/<dbint:platform_id>", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_LTI)
def lti_platform_edit(platform_id: int):
    platform = get_or_404(LtiPlatform, platform_id)
    form = PlatformForm()
    if not form.is_submitted():
        form.process(
            data={
                "name": platform.name, "issuer": platform.issuer, "client_id": platform.client_id,
                "deployment_ids": "\n".join(platform.deployment_ids), "auth_url": platform.auth_url,
                "token_url": platform.token_url, "jwks_url": platform.jwks_url or "",
                "jwks_json": platform.jwks_json or "",
                "frame_origins": "\n".join(platform.frame_origins.split()),
                "is_enabled": platform.is_enabled,
            }
        )  # fmt: skip
    if form.validate_on_submit():
        try:
            changed = update_platform(_actor(), platform.id, _data(form))
        except PlatformError as exc:
            db.session.rollback()
            form.issuer.errors.append(str(exc))
        else:
            db.session.commit()
            flash("Platform saved." if changed else "Nothing changed.", "success")
            return redirect(url_for("imh.lti_admin"))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "imh_course/lti/platform.html", form=form, platform=platform, urls=tool_urls()
    ), status


@bp.route("/admin/lti/setup")
@require_permission(Permission.MANAGE_LTI)
def lti_setup():
    """Exactly what to paste into Moodle 4.x and Canvas, with this deployment's URLs."""
    urls = tool_urls()
    canvas_json = {
        "title": "Infant Mental Health: Theory to Practice",
        "description": "CE course: sessions, readings, quizzes; CE certificates stay in the course site.",
        "oidc_initiation_url": urls["login"],
        "target_link_uri": urls["launch"],
        "public_jwk_url": urls["jwks"],
        "scopes": CANVAS_SCOPES,
        "extensions": [
            {
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                         "target_link_uri": urls["launch"]},
                        {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                         "target_link_uri": urls["launch"]},
                        {"placement": "assignment_selection", "message_type": "LtiDeepLinkingRequest",
                         "target_link_uri": urls["launch"]},
                    ]
                },
            }
        ],
        "custom_fields": {},
    }  # fmt: skip
    return render_template(
        "imh_course/lti/setup.html", urls=urls, has_key=keys.signing_key() is not None,
        canvas_json=json.dumps(canvas_json, indent=2),
    )  # fmt: skip


def _offering_choices() -> list[tuple[int, str]]:
    offerings = db.session.scalars(select(Offering).order_by(Offering.year.desc(), Offering.id.desc()))
    return [(o.id, f"{o.course.title} — {o.term.value.title()} {o.year}") for o in offerings]


@bp.route("/admin/lti/resource-links/<dbint:resource_link_id>", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_LTI)
def lti_resource_link(resource_link_id: int):
    """Connect an LMS link to the offering (and optionally the session) it opens."""
    link = get_or_404(LtiResourceLink, resource_link_id)
    form = ResourceLinkForm()
    form.offering_id.choices = _offering_choices()
    numbers = sorted(set(db.session.scalars(select(CourseSession.number))))
    form.session_number.choices = [(0, "The whole offering")] + [(n, f"Session {n}") for n in numbers]
    if not form.is_submitted():
        form.offering_id.data = link.offering_id
        form.session_number.data = link.session.number if link.session else 0
    if form.validate_on_submit():
        offering = db.session.get(Offering, form.offering_id.data)
        try:
            if offering is None:
                raise PlatformError("That offering no longer exists.")
            connect_resource_link(_actor(), link, offering, form.session_number.data or None)
        except PlatformError as exc:
            db.session.rollback()
            form.offering_id.errors = [str(exc)]
        else:
            db.session.commit()
            flash("The LMS link now opens that offering.", "success")
            return redirect(url_for("imh.lti_admin"))
    status = 400 if form.is_submitted() else 200
    page = render_template("imh_course/lti/resource_link.html", form=form, link=link, sync_form=ActionForm())
    return page, status


@bp.route("/admin/lti/user-links/<dbint:user_link_id>", methods=["GET", "POST"])
@require_permission(Permission.MANAGE_LTI)
def lti_user_link(user_link_id: int):
    """Link an LMS identity to another account: the same person launching from two LMSs."""
    link = get_or_404(LtiUserLink, user_link_id)
    form = UserLinkForm()
    if form.validate_on_submit():
        try:
            relink_user(_actor(), link, (form.email.data or "").lower())
        except PlatformError as exc:
            db.session.rollback()
            form.email.errors = [str(exc)]
        else:
            db.session.commit()
            flash("The LMS identity now signs in to that account.", "success")
            return redirect(url_for("imh.lti_admin"))
    status = 400 if form.is_submitted() else 200
    return render_template("imh_course/lti/user_link.html", form=form, link=link), status


@bp.route("/admin/lti/resource-links/<dbint:resource_link_id>/sync", methods=["POST"])
@require_permission(Permission.MANAGE_LTI)
def lti_roster_sync(resource_link_id: int):
    """Sync roster: the LMS course's learners into the link's offering (new, returning, left shown)."""
    link = get_or_404(LtiResourceLink, resource_link_id)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        report = sync_roster(_actor(), link)
    except RosterError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("imh.lti_resource_link", resource_link_id=link.id))
    db.session.commit()
    return render_template(
        "imh_course/lti/roster.html",
        report=report,
        source=link.platform.name,
        back_url=url_for("imh.lti_resource_link", resource_link_id=link.id),
        back_label=link.title or link.resource_link_id,
        section="LMS connections · Admin",
    )
