"""LTI 1.3 launches from an in-process platform: the full id_token checks, accounts, roles, embedding."""

from __future__ import annotations

import html
import logging
import re
import time

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.lti.platforms import connect_resource_link
from imh_course.models import (
    AuditEvent,
    Enrolment,
    InstructorAssignment,
    LtiResourceLink,
    LtiUserLink,
    Offering,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.rules.lti import MESSAGE_TYPE, ROLES, VERSION
from tests.integration.lti_helpers import (
    ADMIN_ONLY,
    BASE,
    FRAME_ORIGIN,
    INSTRUCTOR,
    JwksServer,
    Platform,
    launch,
    rsa_key,
    start_login,
)


@pytest.fixture
def platform(app) -> Platform:  # noqa: ARG001
    lms = Platform()
    lms.register()
    return lms


def _count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def _connect(offering_id: int, number: int | None = None) -> LtiResourceLink:
    link = db.session.scalar(select(LtiResourceLink))
    connect_resource_link(Actor.system(), link, db.session.get(Offering, offering_id), number)
    db.session.commit()
    return link


def _ticket(page: str) -> str:
    return re.search(r'href="(/lti/continue/[^"]+)"', page).group(1)


def test_first_launch_creates_the_person_and_signs_them_in(client, platform):
    """A first launch makes an account from the name/email claims (no password) and links (iss, sub)."""
    response = launch(client, platform)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "signed in as <strong>Pat Learner</strong>" in page
    assert "not connected to a course offering yet" in page
    user = db.session.scalar(select(User).where(User.email == "pat.learner@lms.example.edu"))
    assert user is not None and user.password_hash is None
    link = db.session.scalar(select(LtiUserLink))
    assert (link.issuer, link.sub, link.user_id) == (platform.issuer, "lms-user-1", user.id)
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"account.create", "lti.user_link"} <= actions
    # The second launch finds the same person; nothing is duplicated.
    assert launch(client, platform).status_code == 200
    assert _count(User) == 1 and _count(LtiUserLink) == 1 and _count(LtiResourceLink) == 1


def test_learner_of_a_connected_link_is_enrolled_and_opens_the_course(client, platform, demo):
    """LMS Learner → enrolled in the linked offering; the one-time ticket opens its page first-party."""
    launch(client, platform)
    _connect(demo.offering_id)
    response = launch(client, platform)
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.email == "pat.learner@lms.example.edu"))
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment.offering_id == demo.offering_id
    other = client.application.test_client()  # the new window: a first-party request
    ticket = _ticket(response.get_data(as_text=True))
    opened = other.get(ticket, base_url=BASE)
    assert opened.status_code == 302 and opened.headers["Location"].endswith(
        f"/learn/offerings/{demo.offering_id}"
    )
    assert other.get(f"/learn/offerings/{demo.offering_id}", base_url=BASE).status_code == 200
    # A ticket works once.
    _refused(client.application.test_client().get(ticket, base_url=BASE), 403, "this link was already used")


def test_lms_instructor_becomes_instructor_of_the_linked_offering_only(client, platform, demo):
    """LMS Instructor → instructor assigned to the linked offering (and its staff pages), nothing more."""
    launch(
        client,
        platform,
        roles=INSTRUCTOR,
        sub="teacher-1",
        email="teach@lms.example.edu",
        name="Tess Teacher",
    )
    _connect(demo.offering_id)
    response = launch(client, platform, roles=INSTRUCTOR, sub="teacher-1", email="teach@lms.example.edu")
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.email == "teach@lms.example.edu"))
    assert {r.value for r in user.role_set} == {"instructor"}
    assigned = db.session.scalars(
        select(InstructorAssignment.offering_id).where(InstructorAssignment.user_id == user.id)
    )
    assert list(assigned) == [demo.offering_id]
    assert _count(Enrolment.__table__) >= 1  # the demo's learners; the instructor is not enrolled
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id)) is None


def test_other_lms_roles_grant_nothing(client, platform, caplog):
    """An LMS administrator (no Instructor/Learner context role) gets a 403 and no account."""
    with caplog.at_level(logging.WARNING, logger="imh_course.security"):
        response = launch(client, platform, roles=ADMIN_ONLY, sub="admin-1")
    assert response.status_code == 403
    assert "only Instructor or Learner" in response.get_data(as_text=True)
    assert _count(User) == 0
    assert "lti.launch_refused" in caplog.text


def _refused(response, status: int, reason: str) -> None:  # noqa: ANN001
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == status, page
    assert reason in page, page


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        (lambda p, n: p.claims(n, aud="someone-else"), 401, "not addressed to this tool"),
        (lambda p, n: p.claims(n, exp=int(time.time()) - 3600, iat=int(time.time()) - 4000), 401, "expired"),
        (lambda p, n: p.claims(n, iat=int(time.time()) + 3600), 401, "issued in the future"),
        (lambda p, n: p.claims(n, iss="https://evil.example.org"), 401, "issuer is not the platform"),
        (lambda p, n: p.claims("another-nonce"), 401, "nonce is not the one"),
        (lambda p, n: {k: v for k, v in p.claims(n).items() if k != "nonce"}, 401, "has no nonce claim"),
        (lambda p, n: {k: v for k, v in p.claims(n).items() if k != "exp"}, 401, "has no exp claim"),
        (lambda p, n: {k: v for k, v in p.claims(n).items() if k != "sub"}, 403, "no user id (sub)"),
        (lambda p, n: {k: v for k, v in p.claims(n).items() if k != ROLES}, 403, "no roles claim"),
        (lambda p, n: p.claims(n, **{"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "nope"}), 403,
         "unknown deployment id"),
        (lambda p, n: p.claims(n, **{MESSAGE_TYPE: "LtiStartProctoring"}), 403, "unsupported LTI message"),
        (lambda p, n: p.claims(n, **{VERSION: "1.1"}), 403, "unsupported LTI version"),
        (lambda p, n: p.claims(n, aud=[p.client_id, "other"]), 401, "no azp"),
        (lambda p, n: p.claims(n, azp="other"), 401, "azp is not"),
        (lambda p, n: p.claims(n, **{"https://purl.imsglobal.org/spec/lti/claim/resource_link": None}), 403,
         "no resource link id"),
    ],
)  # fmt: skip
def test_a_bad_id_token_is_refused_with_its_reason(client, platform, change, status, reason):
    """Each wrong or missing claim is a 401/403 naming what is wrong; nobody is created or signed in."""
    state, nonce = start_login(client, platform)
    token = platform.id_token(change(platform, nonce))
    response = client.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE)
    _refused(response, status, reason)
    assert _count(User) == 0


def test_wrong_key_and_unknown_kid_are_refused(client, platform):
    """Signed by a key that is not the platform's → 401; a kid the key set lacks → 401."""
    state, nonce = start_login(client, platform)
    forged = platform.id_token(platform.claims(nonce), key=rsa_key())
    _refused(client.post("/lti/launch", data={"id_token": forged, "state": state}, base_url=BASE), 401,
             "signature does not match")  # fmt: skip
    state, nonce = start_login(client, platform)
    unknown = platform.id_token(platform.claims(nonce), key=rsa_key(), kid="other-kid")
    _refused(client.post("/lti/launch", data={"id_token": unknown, "state": state}, base_url=BASE), 401,
             "has no key 'other-kid'")  # fmt: skip


def test_unsigned_and_hmac_tokens_are_refused(client, platform):
    """alg=none and HS256 (signed with the public key as a secret) never pass."""
    import jwt as pyjwt

    state, nonce = start_login(client, platform)
    unsigned = pyjwt.encode(platform.claims(nonce), None, algorithm="none")
    _refused(
        client.post("/lti/launch", data={"id_token": unsigned, "state": state}, base_url=BASE),
        401,
        "not RS256",
    )
    hmac_token = pyjwt.encode(platform.claims(nonce), "x" * 32, algorithm="HS256")
    _refused(client.post("/lti/launch", data={"id_token": hmac_token, "state": state}, base_url=BASE), 401,
             "not RS256")  # fmt: skip


def test_a_replayed_launch_is_refused(client, platform):
    """The same id_token and state posted twice: the second is refused (the nonce is spent)."""
    state, nonce = start_login(client, platform)
    token = platform.id_token(platform.claims(nonce))
    assert (
        client.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE).status_code == 200
    )
    replay = client.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE)
    _refused(replay, 401, "already used (replayed nonce)")


def test_state_must_come_from_this_tool_and_this_browser(client, app, platform):
    """No state, a forged state, or a browser without the login cookie → 401."""
    state, nonce = start_login(client, platform)
    token = platform.id_token(platform.claims(nonce))
    _refused(client.post("/lti/launch", data={"id_token": token}, base_url=BASE), 401, "has no state")
    _refused(client.post("/lti/launch", data={"id_token": token, "state": "forged"}, base_url=BASE), 401,
             "not issued by this tool")  # fmt: skip
    stranger = app.test_client()
    blocked = stranger.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE)
    _refused(blocked, 401, "did not send back the login cookie")
    found = re.search(r'href="(/lti/login\?[^"]+)"[^>]*target="_blank"', blocked.get_data(as_text=True))
    retry = html.unescape(found.group(1))
    assert "login_hint=hint-1" in retry and "client_id=" in retry  # the same login, in a new window
    _refused(client.post("/lti/launch", data={"state": state}, base_url=BASE), 401, "has no id_token")


def test_login_from_an_unknown_platform_is_refused(client, platform):
    """The OIDC login names an issuer (or client id) nobody registered → 403, no redirect."""
    response = client.get("/lti/login", query_string={"iss": "https://unknown.example", "login_hint": "x"},
                          base_url=BASE)  # fmt: skip
    _refused(response, 403, "no registered platform")
    data = {"iss": platform.issuer, "login_hint": "x", "client_id": "nope"}
    response = client.post("/lti/login", data=data, base_url=BASE)
    _refused(response, 403, "no registered platform")
    _refused(client.get("/lti/login", base_url=BASE), 403, "names no issuer")


def test_platform_keys_are_fetched_from_its_jwks_url(client, app):
    """A platform registered with a JWKS URL: the key set is fetched over HTTP (loopback) and cached."""
    lms = Platform(issuer="https://canvas.example.edu", client_id="10000000000001")
    with JwksServer(lms.jwks()) as server:
        lms.register(jwks_url=server.url, name="Canvas")
        assert launch(client, lms).status_code == 200
        assert launch(client, lms, sub="lms-user-2", email=None).status_code == 200
        assert server.fetches == 1
    assert _count(User) == 2


def test_two_platforms_stay_two_people_and_email_never_links(client, platform, make_user):
    """The same sub and email from a second platform, or an existing account's email: separate accounts."""
    existing = make_user(email="pat.learner@lms.example.edu", full_name="Pat Existing")
    assert launch(client, platform).status_code == 200
    second = Platform(issuer="https://other-lms.example.org")
    second.register(name="Other LMS")
    assert launch(client, second).status_code == 200
    links = list(db.session.scalars(select(LtiUserLink).order_by(LtiUserLink.id)))
    assert len(links) == 2 and len({link.user_id for link in links}) == 2
    assert existing.id not in {link.user_id for link in links}
    assert all(link.user.email.endswith("@lti.invalid") for link in links)


def test_staff_accounts_are_never_signed_in_from_an_lms(client, platform, demo):
    """An (issuer, sub) linked to a coordinator by mistake cannot sign in as them."""
    launch(client, platform)
    link = db.session.scalar(select(LtiUserLink))
    link.user_id = demo.coordinator_id
    db.session.commit()
    _refused(launch(client, platform), 403, "coordinator or admin rights")


def test_launch_pages_may_be_framed_by_registered_platforms_only(client, platform):
    """The launch page: frame-ancestors names the platforms, no X-Frame-Options; cookies SameSite=None."""
    query = {"iss": platform.issuer, "login_hint": "h", "client_id": platform.client_id}
    login = client.get("/lti/login", query_string=query, base_url=BASE)
    state_cookie = [c for c in login.headers.getlist("Set-Cookie") if c.startswith("imh_lti_state=")][0]
    assert "SameSite=None" in state_cookie and "Secure" in state_cookie and "HttpOnly" in state_cookie
    response = launch(client, platform)
    policy = response.headers["Content-Security-Policy"]
    ancestors = re.search(r"frame-ancestors ([^;]+)", policy).group(1).split()
    assert ancestors == ["'self'", platform.issuer, FRAME_ORIGIN]  # the issuer's (and auth URL's) origin too
    assert "X-Frame-Options" not in response.headers
    session_cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")][0]
    assert "SameSite=None" in session_cookie and "Secure" in session_cookie
    # Every other page keeps refusing to be framed, with the session cookie Lax.
    other = client.get("/learn", base_url=BASE)
    assert "frame-ancestors 'none'" in other.headers["Content-Security-Policy"]
    assert other.headers["X-Frame-Options"] == "DENY"
    jwks = client.get("/lti/jwks.json")
    assert jwks.headers["X-Frame-Options"] == "DENY"


def test_refusal_pages_are_framable_too(client, platform):
    """A refused launch is readable inside the LMS iframe (its reason shows there)."""
    response = client.post("/lti/launch", data={}, base_url=BASE)
    assert response.status_code == 401
    assert FRAME_ORIGIN in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
    assert platform.platform_id
