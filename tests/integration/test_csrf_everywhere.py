"""Every state-changing route refuses a request without a valid CSRF token and changes nothing (ASVS 4.2.2).

Generated from ``app.url_map``: every route accepting POST, PUT, PATCH or DELETE is sent a request,
by a person who may use it (taken from the access matrix), with no token and with a forged one.
Each must answer 400 with the "form expired" page, and the database must be byte-for-byte the same.
"""

from __future__ import annotations

import hashlib
import re

from flask import g
from sqlalchemy import select

from imh_course.extensions import db
from tests.access_world import EMAILS, EXPECTED, NOT_CHECKED, PERSONAS
from tests.access_world import path_for as _path
from tests.conftest import TEST_PASSWORD
from tests.integration.test_access_matrix import world  # noqa: F401

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: The only routes exempt from CSRF, each with why. The LMS reaches them with cross-site requests
#: (the OIDC login initiation and the form_post of the id_token), where no CSRF token can exist;
#: they are authenticated by the platform's RS256-signed id_token, the nonce used once and the
#: login state (signed, and bound to the browser by a cookie) instead. Each must still refuse a
#: request without that proof (401/403) and change nothing; a view exempted anywhere else fails.
CSRF_EXEMPT = {
    "imh.lti_login": "LTI OIDC login initiation: a cross-site GET/POST from the platform; it writes nothing",
    "imh.lti_launch": "LTI launch: the platform's form_post, authenticated by its signed id_token + state",
}
#: Who sends the forged request: anonymous where the route is public, else the first signed-in
#: person allowed to use it, so the missing token is the only thing wrong with the request.
PREFERENCE = (
    "anonymous",
    "learner",
    "instructor",
    "coordinator",
    "admin",
    "other_learner",
    "other_instructor",
)
#: Plausible fields, so a view that skipped the CSRF check would have something to act on.
FORM = {
    "email": "lcsw@example.org",
    "password": TEST_PASSWORD,
    "confirm": "y",
    "reason": "Checking CSRF protection",
    "certificate_name": "Changed Name",
    "status": "present",
    "body": "changed",
}


def state_changing_rules(app):  # noqa: ANN001, ANN201
    rules = [r for r in app.url_map.iter_rules() if r.endpoint not in NOT_CHECKED and r.methods & UNSAFE]
    return sorted(rules, key=lambda r: (r.endpoint == "imh.logout", r.rule))


def persona_for(endpoint: str) -> str:
    row = EXPECTED.get(endpoint)
    assert row is not None, f"{endpoint} is not in the access matrix: add it to access_world.EXPECTED"
    cells = dict(zip(PERSONAS, row.split(), strict=True))
    allowed = [p for p in PREFERENCE if cells[p] == "ok"]
    assert allowed, f"{endpoint}: nobody may use it, so its CSRF protection cannot be checked"
    return allowed[0]


def database_digest() -> str:
    """A digest of every row of every table of the module, in primary-key order."""
    digest = hashlib.sha256()
    db.session.expire_all()
    for table in db.metadata.sorted_tables:
        digest.update(table.name.encode())
        for row in db.session.execute(select(table).order_by(*table.primary_key.columns)):
            digest.update(repr(tuple(row)).encode())
    db.session.rollback()
    return digest.hexdigest()


def sign_in(client, email: str) -> None:  # noqa: ANN001
    g.pop("csrf_token", None)  # the test's app context outlives requests; Flask-WTF caches in g
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302, f"sign-in with a valid token failed for {email}"


def test_there_are_state_changing_routes_to_check(app):
    """The generator finds the module's forms (sign-in, sign-out, learner work, staff actions)."""
    endpoints = {rule.endpoint for rule in state_changing_rules(app)}
    assert {"imh.login", "imh.logout", "imh.quiz", "imh.change_password", "imh.issue"} <= endpoints
    assert len(endpoints) >= 20


def test_csrf_exemptions_are_exactly_the_documented_ones(app):
    """CSRFProtect exempts the LTI platform endpoints listed in CSRF_EXEMPT, and no other view."""
    exempt = app.extensions["csrf"]._exempt_views
    documented = {f"{app.view_functions[e].__module__}.{app.view_functions[e].__name__}" for e in CSRF_EXEMPT}
    assert set(exempt) == documented
    assert not app.extensions["csrf"]._exempt_blueprints


def test_exempt_routes_refuse_a_request_without_the_platforms_proof(app, world):  # noqa: F811
    """The LTI routes, sent the same forged form with no id_token or state: 401/403 and nothing changes."""
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    for endpoint in CSRF_EXEMPT:
        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        before = database_digest()
        response = client.post(_path(app, rule, world), data=dict(FORM, csrf_token="forged.token.value"))
        assert response.status_code in (401, 403), endpoint
        assert "the launch from your LMS was refused" in response.get_data(as_text=True)
        assert database_digest() == before, endpoint


def test_every_state_changing_route_rejects_a_missing_or_forged_token(app, world):  # noqa: F811
    """Without a valid CSRF token every form and action is refused with 400 and the database is unchanged."""
    app.config["WTF_CSRF_ENABLED"] = True  # the world was built without; people's browsers send tokens
    clients = {}
    problems = []
    for rule in state_changing_rules(app):
        if rule.endpoint in CSRF_EXEMPT:
            continue  # checked by test_exempt_routes_refuse_a_request_without_the_platforms_proof
        persona = persona_for(rule.endpoint)
        if persona not in clients:
            clients[persona] = app.test_client()
            if persona != "anonymous":
                sign_in(clients[persona], EMAILS[persona])
        client = clients[persona]
        path = _path(app, rule, world)
        method = next(m for m in ("POST", "PUT", "PATCH", "DELETE") if m in rule.methods)
        before = database_digest()
        for label, token in (("no token", None), ("forged token", "forged.token.value")):
            data = dict(FORM, csrf_token=token) if token else dict(FORM)
            response = client.open(path, method=method, data=data)
            page = response.get_data(as_text=True)
            if response.status_code != 400 or "Your form expired" not in page:
                problems.append(f"{rule.endpoint} ({persona}, {label}): {response.status_code}")
        if database_digest() != before:
            problems.append(f"{rule.endpoint} ({persona}): the database changed")
    assert problems == [], "\n".join(problems)
