"""The LTI routes the platform and the LMS iframe reach: login initiation, launch, the tool's JWKS.

The login and the launch are cross-site requests from the platform: they are authenticated by the
platform's signed id_token (and the state cookie), not by a CSRF token, so they are exempt from
CSRFProtect (tests/integration/test_csrf_everywhere.py lists them). Every refusal is a 401/403
page with the reason, logged as ``lti.launch_refused``; none is a 500.

After a launch the page inside the iframe offers "Open the course in a new window": a one-time
ticket (2 minutes, spent like a nonce) signs the same person in first-party, so the course works
even where the browser blocks cookies in the iframe.
"""

from __future__ import annotations

import logging

from flask import current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..extensions import csrf, db
from ..forms.lti import DeepLinkForm
from ..lti import keys
from ..lti.deep_linking import pickable_offerings, read_request, request_token, response_jwt
from ..lti.embedding import allow_framing, origin
from ..lti.provision import LTI_ACTOR_ROLE, Arrival, arrive
from ..lti.verify import STATE_COOKIE, STATE_MAX_AGE, login_redirect, spend_nonce, state_hash, verify_id_token
from ..models.accounts import User
from ..models.audit_chain import Actor, record_event
from ..models.lti import LtiPlatform
from ..models.types import utcnow
from ..rules.lti import ClaimProblem, CourseRole, Launch
from ..security import log as security_log
from ..security.access import login_required_view, public
from ..security.hooks import FORM_ACTION
from .auth import home_for
from .blueprint import bp

TICKET_SALT = "imh-lti-ticket"
TICKET_MAX_AGE = 120
TICKET_ISSUER = "imh:lti-ticket"


def refuse(problem: ClaimProblem, stage: str):  # noqa: ANN201 - the refusal page
    db.session.rollback()
    security_log.event("lti.launch_refused", logging.WARNING, stage=stage, reason=problem.reason)
    allow_framing()
    retry = url_for("imh.lti_login", **problem.retry) if problem.retry else None
    page = render_template(
        "imh_course/lti/refused.html", reason=problem.reason, status=problem.status, retry=retry
    )
    return page, problem.status


@bp.route("/lti/login", methods=["GET", "POST"])
@public
@csrf.exempt
def lti_login():
    """OIDC third-party initiated login: redirect to the platform's auth URL with state and nonce."""
    params = {k: v[:2000] for k, v in (request.form if request.method == "POST" else request.args).items()}
    try:
        target, state = login_redirect(params, url_for("imh.lti_launch", _external=True))
    except ClaimProblem as problem:
        return refuse(problem, "login")
    response = redirect(target)
    response.set_cookie(
        STATE_COOKIE, state_hash(state), max_age=STATE_MAX_AGE, secure=True, httponly=True, samesite="None"
    )
    return response


def _ticket_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TICKET_SALT)


def _destination(arrival: Arrival) -> str | None:
    link = arrival.resource_link
    if link is None or link.offering_id is None:
        return None
    if CourseRole.INSTRUCTOR in arrival.roles:
        return url_for("imh.staff_offering", offering_id=link.offering_id)
    if link.session is not None:
        return url_for("imh.session_page", offering_id=link.offering_id, number=link.session.number)
    return url_for("imh.offering_dashboard", offering_id=link.offering_id)


@bp.route("/lti/launch", methods=["POST"])
@public
@csrf.exempt
def lti_launch():
    """The resource-link launch: verify the id_token in full, sign the person in, show the way in."""
    try:
        platform, launch = verify_id_token(
            request.form.get("id_token", ""), request.form.get("state", ""), request.cookies.get(STATE_COOKIE)
        )
        arrival = arrive(platform, launch)
    except ClaimProblem as problem:
        return refuse(problem, "launch")
    user = arrival.user
    user.last_signin_dt = utcnow()
    if launch.deep_link is not None:
        return _deep_link_picker(platform, launch, user)
    destination = _destination(arrival)
    ticket = _ticket_serializer().dumps({"u": user.id, "t": user.session_token, "d": destination})
    context = {
        "user": user,
        "platform": platform,
        "link": arrival.resource_link,
        "created": arrival.created_account,
        "ticket_url": url_for("imh.lti_continue", ticket=ticket),
        "connected": destination is not None,
    }
    user_id = user.id
    _sign_in(user)
    db.session.commit()
    security_log.event("lti.launch", user=user_id, platform=platform.id)
    allow_framing()
    response = render_template("imh_course/lti/launched.html", **context)
    return response, 200, {"Cache-Control": "no-store"}


def _sign_in(user: User) -> None:
    session.clear()
    login_user(user)


def _deep_link_picker(platform: LtiPlatform, launch: Launch, user: User):  # noqa: ANN202
    """The deep-linking launch: sign the instructor in and show the offerings they may place."""
    offerings = pickable_offerings(user, platform, launch.context_id)
    token = request_token(user, platform, launch)
    _sign_in(user)
    form = DeepLinkForm(request_token=token)
    form.fill(offerings)
    db.session.commit()
    allow_framing()
    page = render_template("imh_course/lti/deep_link.html", form=form, offerings=offerings, platform=platform)
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/lti/deep-link", methods=["POST"])
@login_required_view
def lti_deep_link():
    """The instructor's pick goes back to the LMS as a signed LtiDeepLinkingResponse (auto-posted)."""
    allow_framing()
    form = DeepLinkForm()
    try:
        data = read_request(form.request_token.data or "") if form.request_token.data else None
        if data is not None and data.get("u") != current_user.id:
            raise ClaimProblem("this picker belongs to someone else: open it from the LMS again", 403)
        platform = db.session.get(LtiPlatform, data["p"]) if data else None
        if data is not None and (platform is None or not platform.is_enabled):
            raise ClaimProblem("the platform of this picker is no longer registered", 403)
    except ClaimProblem as problem:
        return refuse(problem, "deep-link")
    offerings = pickable_offerings(current_user, platform, data.get("c")) if platform else []
    form.fill(offerings)
    if data is None or not form.validate_on_submit():
        page = render_template(
            "imh_course/lti/deep_link.html", form=form, offerings=offerings, platform=platform
        )
        return page, 400
    offering = next(o for o in offerings if o.id == form.offering_id.data)
    number = form.session_number.data or None
    try:
        token = response_jwt(platform, data, offering, number)
    except RuntimeError:  # no tool key yet
        problem = ClaimProblem("the tool has no signing key yet: an admin runs `flask imh lti keys rotate`")
        return refuse(problem, "deep-link")
    record_event(
        Actor(user=current_user, role=LTI_ACTOR_ROLE), "lti.deep_link", "offering", offering.id,
        offering_id=offering.id, after={"platform_id": platform.id, "session": number},
    )  # fmt: skip
    db.session.commit()
    setattr(g, FORM_ACTION, origin(data["r"]) or "")
    page = render_template("imh_course/lti/deep_link_return.html", return_url=data["r"], jwt=token)
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/lti/continue/<ticket>")
@public
def lti_continue(ticket: str):
    """Open the course in a new window: the one-time ticket from the launch page signs the person in."""
    try:
        data = _ticket_serializer().loads(ticket, max_age=TICKET_MAX_AGE)
        user = db.session.get(User, int(data["u"]))
        if user is None or not user.is_enabled or user.session_token != data["t"]:
            raise ClaimProblem("this link no longer signs anyone in: launch again from the LMS", 403)
        try:
            spend_nonce(TICKET_ISSUER, ticket[-64:])
        except ClaimProblem:
            raise ClaimProblem("this link was already used: launch again from the LMS", 403) from None
    except ClaimProblem as problem:  # before ValueError: ClaimProblem is one
        return refuse(problem, "continue")
    except (BadSignature, KeyError, TypeError, ValueError):
        return refuse(ClaimProblem("this link has expired: launch again from the LMS", 403), "continue")
    destination = data.get("d")
    if not isinstance(destination, str) or not destination.startswith("/") or destination.startswith("//"):
        destination = None
    session.clear()
    login_user(user)
    db.session.commit()
    return redirect(destination or home_for(user))


@bp.route("/lti/jwks.json")
@public
def lti_jwks():
    """The tool's public keys (every unretired key), for platforms to verify what the tool signs."""
    response = jsonify(keys.public_jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
