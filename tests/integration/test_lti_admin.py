"""LTI admin: tool keys (rotate, publish, retire), platform registration in the browser, the setup page."""

from __future__ import annotations

import json
import re

import jwt
import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.lti import keys
from imh_course.models import AuditEvent, LtiPlatform, LtiResourceLink, LtiToolKey, LtiUserLink, User
from imh_course.models.audit_chain import Actor
from imh_course.operations.accounts import create_user
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.integration.lti_helpers import BASE, Platform, launch


@pytest.fixture
def admin(app, login):  # noqa: ARG001
    create_user(Actor.system(), email="admin@example.org", full_name="Ada Admin", roles=[Role.ADMIN],
                password=TEST_PASSWORD)  # fmt: skip
    db.session.commit()
    login("admin@example.org")


def test_rotate_keeps_the_previous_key_published_until_rotated_out(runner, client):
    """rotate → one key; again → two published, newest signs; a third time retires the first."""
    assert client.get("/lti/jwks.json").get_json() == {"keys": []}
    kids = []
    for _ in range(3):
        result = runner.invoke(args=["imh", "lti", "keys", "rotate"])
        assert result.exit_code == 0, result.output
        kids.append(result.output.split()[3].rstrip("."))
    published = [k["kid"] for k in client.get("/lti/jwks.json").get_json()["keys"]]
    assert published == [kids[2], kids[1]]
    assert "Retired key" not in runner.invoke(args=["imh", "lti", "keys", "list"]).output
    first = db.session.scalar(select(LtiToolKey).where(LtiToolKey.kid == kids[0]))
    assert first.retired_dt is not None
    # What the tool signs verifies with the published set; the newest key signs.
    token = keys.sign({"iss": "tool", "aud": "lms"})
    assert jwt.get_unverified_header(token)["kid"] == kids[2]
    jwk = jwt.PyJWKSet.from_dict(client.get("/lti/jwks.json").get_json())[kids[2]]
    assert jwt.decode(token, jwk.key, algorithms=["RS256"], audience="lms")["iss"] == "tool"
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "lti.key_rotate")) == 3
    assert all("PRIVATE" not in json.dumps(k) for k in client.get("/lti/jwks.json").get_json()["keys"])


def test_the_tools_private_keys_are_encrypted_at_rest(app, runner):
    """A database dump alone cannot sign as the tool: the private half is encrypted PKCS#8 that the
    site's passphrase opens (and a different passphrase does not); a key an earlier version stored
    unencrypted still signs."""
    from cryptography.hazmat.primitives import serialization

    assert runner.invoke(args=["imh", "lti", "keys", "rotate"]).exit_code == 0
    row = keys.signing_key()
    assert row.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(TypeError):  # no password: refused
        serialization.load_pem_private_key(row.private_pem.encode(), password=None)
    with pytest.raises(ValueError):  # the wrong password: refused
        serialization.load_pem_private_key(row.private_pem.encode(), password=b"not-the-passphrase")
    jwk = jwt.PyJWKSet.from_dict(keys.public_jwks())[row.kid]
    assert jwt.decode(keys.sign({"aud": "lms"}), jwk.key, algorithms=["RS256"], audience="lms")

    plain = serialization.load_pem_private_key(row.private_pem.encode(), password=keys.key_passphrase())
    legacy = LtiToolKey(
        kid="legacy-plain",
        private_pem=plain.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        public_jwk=json.dumps({**json.loads(row.public_jwk), "kid": "legacy-plain"}),
    )
    db.session.add(legacy)
    db.session.commit()
    token = keys.sign({"aud": "lms"})
    assert jwt.get_unverified_header(token)["kid"] == "legacy-plain"
    assert jwt.decode(token, jwk.key, algorithms=["RS256"], audience="lms")


def _form(**changes: str) -> dict[str, str]:
    data = {
        "name": "Agency Moodle",
        "issuer": "https://moodle.agency.example",
        "client_id": "AbC123",
        "deployment_ids": "1\n2\n",
        "auth_url": "https://moodle.agency.example/mod/lti/auth.php",
        "token_url": "https://moodle.agency.example/mod/lti/token.php",
        "jwks_url": "https://moodle.agency.example/mod/lti/certs.php",
        "jwks_json": "",
        "frame_origins": "",
        "is_enabled": "y",
    }
    data.update(changes)
    return data


def test_admin_registers_and_edits_a_platform_in_the_browser(client, admin):  # noqa: ARG001
    """The form creates the platform with its deployments, audited; an edit records before/after."""
    assert client.get("/admin/lti/platforms/new").status_code == 200
    response = client.post("/admin/lti/platforms/new", data=_form())
    assert response.status_code == 302
    platform = db.session.scalar(select(LtiPlatform))
    assert (platform.issuer, platform.client_id, platform.deployment_ids) == (
        "https://moodle.agency.example", "AbC123", ["1", "2"])  # fmt: skip
    response = client.post(f"/admin/lti/platforms/{platform.id}", data=_form(deployment_ids="2\n3"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(LtiPlatform, platform.id).deployment_ids == ["2", "3"]
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("lti.platform%"))))
    assert [e.action for e in events] == ["lti.platform_create", "lti.platform_update"]
    assert events[1].before["deployment_ids"] == ["1", "2"] and events[1].after["deployment_ids"] == [
        "2",
        "3",
    ]
    assert "Agency Moodle" in client.get("/admin/lti").get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"jwks_url": ""}, "Give the platform&#39;s JWKS URL or paste its key set."),
        ({"jwks_url": "", "jwks_json": "{not json"}, "The key set is not valid JSON."),
        ({"auth_url": "http://moodle.agency.example/auth"}, "Use an https:// address"),
        ({"issuer": "moodle"}, "Enter a full web address"),
        ({"frame_origins": "school.example"}, "is not a web address"),
        ({"deployment_ids": ""}, "Enter at least one deployment ID."),
    ],
)
def test_a_bad_registration_re_renders_and_changes_nothing(client, admin, changes, message):  # noqa: ARG001
    response = client.post("/admin/lti/platforms/new", data=_form(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(LtiPlatform)) == 0


def test_the_same_issuer_and_client_id_cannot_be_registered_twice(client, admin):  # noqa: ARG001
    assert client.post("/admin/lti/platforms/new", data=_form()).status_code == 302
    response = client.post("/admin/lti/platforms/new", data=_form(name="Again"))
    assert response.status_code == 400
    assert "already registered" in response.get_data(as_text=True)


def test_setup_page_shows_this_deployments_urls(client, app, admin):  # noqa: ARG001
    """Moodle and Canvas instructions carry the tool's login, launch and JWKS URLs (IMH_BASE_URL)."""
    app.config["IMH_BASE_URL"] = "https://imh.agency.example"
    page = client.get("/admin/lti/setup").get_data(as_text=True)
    for url in ("https://imh.agency.example/lti/login", "https://imh.agency.example/lti/launch",
                "https://imh.agency.example/lti/jwks.json"):  # fmt: skip
        assert url in page
    assert "Moodle 4.x" in page and "LTI 1.3" in page and "Developer Key" in page
    assert "flask imh lti keys rotate" in page  # no key yet


def test_admin_connects_a_link_and_links_an_lms_identity(client, app, admin, demo):  # noqa: ARG001
    """Connect an LMS link to an offering and session; move an LMS identity to an existing account."""
    lms = Platform()
    lms.register()
    launcher = app.test_client()
    assert launch(launcher, lms).status_code == 200
    link = db.session.scalar(select(LtiResourceLink))
    response = client.post(f"/admin/lti/resource-links/{link.id}",
                           data={"offering_id": demo.offering_id, "session_number": 3})  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    link = db.session.get(LtiResourceLink, link.id)
    assert link.offering_id == demo.offering_id and link.session.number == 3
    person = db.session.scalar(select(LtiUserLink))
    refused = client.post(f"/admin/lti/user-links/{person.id}", data={"email": "coordinator@example.org"})
    assert refused.status_code == 400 and "coordinator or admin" in refused.get_data(as_text=True)
    assert (
        client.post(f"/admin/lti/user-links/{person.id}", data={"email": "nurse@example.org"}).status_code
        == 302
    )
    db.session.expire_all()
    nurse = db.session.scalar(select(User).where(User.email == "nurse@example.org"))
    assert db.session.get(LtiUserLink, person.id).user_id == nurse.id
    # The next launch signs the nurse in, to session 3 of the linked offering.
    page = launch(launcher, lms).get_data(as_text=True)
    assert f"signed in as <strong>{nurse.full_name}</strong>" in page
    ticket = re.search(r'href="(/lti/continue/[^"]+)"', page).group(1)
    opened = app.test_client().get(ticket, base_url=BASE)
    assert opened.headers["Location"].endswith(f"/learn/offerings/{demo.offering_id}/sessions/3")
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"lti.resource_link_connect", "lti.user_relink"} <= actions
