"""Deep linking: an LMS instructor places an offering (or a session); the placed link opens it."""

from __future__ import annotations

import html
import re

import jwt
import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.lti import keys
from imh_course.lti.deep_linking import CONTENT_ITEMS, DATA
from imh_course.models import AuditEvent, Enrolment, InstructorAssignment, LtiResourceLink, User
from imh_course.models.audit_chain import Actor
from imh_course.rules.lti import CUSTOM, DEEP_LINKING_SETTINGS, MESSAGE_TYPE, PLACEMENT_PARAMETER
from tests.integration.lti_helpers import BASE, INSTRUCTOR, Platform, start_login

RETURN_URL = "https://lms.example.edu/deep-link/return"
TEACHER = {"sub": "teacher-1", "email": "tess@lms.example.edu", "name": "Tess Teacher", "roles": INSTRUCTOR}


@pytest.fixture
def platform(app) -> Platform:  # noqa: ARG001
    keys.rotate(Actor.system())
    db.session.commit()
    lms = Platform()
    lms.register()
    return lms


def _deep_link_launch(client, platform: Platform, **claims):  # noqa: ANN001, ANN202
    state, nonce = start_login(client, platform)
    settings = {"deep_link_return_url": RETURN_URL, "accept_types": ["ltiResourceLink"], "data": "opaque-42"}
    body = platform.claims(nonce, **{**TEACHER, **claims})
    body[MESSAGE_TYPE] = "LtiDeepLinkingRequest"
    body[DEEP_LINKING_SETTINGS] = settings
    body.pop("https://purl.imsglobal.org/spec/lti/claim/resource_link")
    return client.post(
        "/lti/launch", data={"id_token": platform.id_token(body), "state": state}, base_url=BASE
    )


def _hidden(page: str, name: str) -> str:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    return html.unescape(re.search(r'value="([^"]+)"', tag).group(1))


def test_an_instructor_places_an_offering_session_and_the_link_opens_it(client, app, platform, demo):
    """Pick → signed LtiDeepLinkingResponse to the return URL → the placed link's launch connects it."""
    first = _deep_link_launch(client, platform)
    assert first.status_code == 200 and "You do not teach an offering here yet" in first.get_data(
        as_text=True
    )
    teacher = db.session.scalar(select(User).where(User.email == "tess@lms.example.edu"))
    db.session.add(InstructorAssignment(offering_id=demo.offering_id, user_id=teacher.id))
    db.session.commit()

    picker = _deep_link_launch(client, platform)
    page = picker.get_data(as_text=True)
    assert picker.status_code == 200 and "Place this link in the LMS course" in page
    assert "X-Frame-Options" not in picker.headers
    form = {
        "request_token": _hidden(page, "request_token"),
        "offering_id": demo.offering_id,
        "session_number": 2,
    }
    back = client.post("/lti/deep-link", data=form, base_url=BASE)
    returned = back.get_data(as_text=True)
    assert back.status_code == 200, returned
    assert f'action="{RETURN_URL}"' in returned
    assert "form-action 'self' https://lms.example.edu" in back.headers["Content-Security-Policy"]

    # The platform verifies the response with the tool's published key.
    token = _hidden(returned, "JWT")
    jwks = jwt.PyJWKSet.from_dict(client.get("/lti/jwks.json").get_json())
    key = jwks[jwt.get_unverified_header(token)["kid"]].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience=platform.issuer)
    assert claims["iss"] == platform.client_id and claims[MESSAGE_TYPE] == "LtiDeepLinkingResponse"
    assert claims[DATA] == "opaque-42"
    (item,) = claims[CONTENT_ITEMS]
    assert item["type"] == "ltiResourceLink" and item["url"] == BASE + "/lti/launch"
    assert item["title"].startswith("Session 2: ")

    # A learner launches the placed link: the platform echoes the custom parameter.
    learner = app.test_client()
    state, nonce = start_login(learner, platform)
    body = platform.claims(nonce, link_id="placed-1", **{CUSTOM: item["custom"]})
    opened = learner.post(
        "/lti/launch", data={"id_token": platform.id_token(body), "state": state}, base_url=BASE
    )
    assert opened.status_code == 200
    link = db.session.scalar(select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "placed-1"))
    assert link.offering_id == demo.offering_id and link.session.number == 2
    pat = db.session.scalar(select(User).where(User.email == "pat.learner@lms.example.edu"))
    assert (
        db.session.scalar(select(Enrolment.offering_id).where(Enrolment.user_id == pat.id))
        == demo.offering_id
    )
    actions = list(db.session.scalars(select(AuditEvent.action)))
    assert "lti.deep_link" in actions and "lti.resource_link_connect" in actions


def test_a_forged_placement_connects_nothing(client, platform, demo):
    """A custom parameter the tool did not sign (an LMS user editing it) leaves the link unconnected."""
    state, nonce = start_login(client, platform)
    forged = {PLACEMENT_PARAMETER: f'{{"p":1,"o":{demo.offering_id},"s":null}}.forged'}
    body = platform.claims(nonce, link_id="edited", **{CUSTOM: forged})
    response = client.post(
        "/lti/launch", data={"id_token": platform.id_token(body), "state": state}, base_url=BASE
    )
    assert response.status_code == 200 and "not connected to a course offering yet" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(LtiResourceLink.offering_id)) is None


def _other_offering(instructor_id: int) -> int:
    from tests.access_world import _second_offering

    return _second_offering(instructor_id)


def test_only_instructors_may_deep_link_and_only_their_offerings(client, app, platform, demo):
    """An LMS learner may not deep link; an instructor may place only offerings they teach."""
    refused = _deep_link_launch(
        client, platform, roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",)
    )
    assert refused.status_code == 403 and "only an LMS instructor" in refused.get_data(as_text=True)
    _deep_link_launch(client, platform)
    teacher = db.session.scalar(select(User).where(User.email == "tess@lms.example.edu"))
    other_offering = _other_offering(teacher.id)
    page = _deep_link_launch(client, platform).get_data(as_text=True)
    choices = re.search(r'<select[^>]*name="offering_id".*?</select>', page, re.S).group(0)
    assert re.findall(r'value="(\d+)"', choices) == [str(other_offering)]
    token = _hidden(page, "request_token")
    response = client.post("/lti/deep-link", data={"request_token": token, "offering_id": demo.offering_id},
                           base_url=BASE)  # fmt: skip
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    # Someone else's picker token cannot be used.
    other = app.test_client()
    other.post("/login", data={"email": "lcsw@example.org", "password": "correct-horse-battery"})
    stolen = other.post("/lti/deep-link", data={"request_token": token, "offering_id": demo.offering_id},
                        base_url=BASE)  # fmt: skip
    assert stolen.status_code == 403 and "belongs to someone else" in html.unescape(
        stolen.get_data(as_text=True)
    )


def test_hostile_numbers_in_the_picker_change_nothing(client, platform, demo):
    """Out-of-range, huge and non-ASCII numbers in the picker: a 400 with the form, never a 500."""
    from tests.integration.test_form_int_range import HOSTILE

    _deep_link_launch(client, platform)
    teacher = db.session.scalar(select(User).where(User.email == "tess@lms.example.edu"))
    db.session.add(InstructorAssignment(offering_id=demo.offering_id, user_id=teacher.id))
    db.session.commit()
    page = _deep_link_launch(client, platform).get_data(as_text=True)
    token = _hidden(page, "request_token")
    answers = []
    for name in ("offering_id", "session_number"):
        for value in HOSTILE:
            form = {"request_token": token, "offering_id": demo.offering_id, "session_number": 1, name: value}
            response = client.post("/lti/deep-link", data=form, base_url=BASE)
            answers.append((name, value[:12], response.status_code))
    assert [a for a in answers if a[2] != 400] == []
