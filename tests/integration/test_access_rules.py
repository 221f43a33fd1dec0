"""Every route declares an access rule; anonymous and wrong-role requests are refused."""

from __future__ import annotations

from imh_course.security.access import ACCESS_ATTR
from imh_course.security.roles import Role

#: Blueprint static files are public by nature (CSS only; no personal data).
STATIC_ENDPOINTS = {"imh.static", "static"}


def test_every_module_route_has_an_access_rule(app):
    """A new route without public/login_required_view/require_permission fails this test."""
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in STATIC_ENDPOINTS or not rule.endpoint.startswith("imh."):
            continue
        view = app.view_functions[rule.endpoint]
        if not hasattr(view, ACCESS_ATTR):
            missing.append(rule.endpoint)
    assert missing == []


def test_anonymous_is_sent_to_sign_in(client, demo):
    """Signed-out visitors are redirected to sign in from every non-public page."""
    for url in [
        "/learn",
        f"/learn/offerings/{demo.offering_id}",
        "/staff",
        f"/staff/offerings/{demo.offering_id}",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login" in response.headers["Location"]


def test_learner_cannot_open_staff_pages(client, demo, login):
    """Permissions, not role names: a learner gets 403 on staff pages."""
    login("lcsw@example.org")
    assert client.get("/staff").status_code == 403
    assert client.get(f"/staff/offerings/{demo.offering_id}").status_code == 403


def test_instructor_of_another_offering_gets_404(client, demo, make_user, login):
    """An instructor sees only offerings they are assigned to."""
    make_user(Role.INSTRUCTOR, email="other@example.org")
    login("other@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}").status_code == 404
    assert client.get("/staff").status_code == 200


def test_learner_not_enrolled_gets_404(client, demo, make_user, login):
    """A learner sees only offerings they are enrolled in; others look like they do not exist."""
    make_user(Role.LEARNER, email="outsider@example.org")
    login("outsider@example.org")
    assert client.get(f"/learn/offerings/{demo.offering_id}").status_code == 404
    assert client.get(f"/learn/offerings/{demo.offering_id}/sessions/1").status_code == 404
