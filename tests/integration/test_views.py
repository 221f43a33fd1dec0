"""Pages a learner and a visitor see, and friendly errors."""

from __future__ import annotations

import re

from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import CourseSession


def test_learner_sees_the_11_sessions_in_order(client, demo, login):
    """The dashboard lists sessions 1..11 in order with their meeting times."""
    login("lcsw@example.org")
    response = client.get("/learn", follow_redirects=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    numbers = [int(n) for n in re.findall(r'<h3><a href="[^"]+">Session (\d+):', html)]
    assert numbers == list(range(1, 12))
    assert html.count('<p class="meta"><time') == 11


def test_session_page_shows_readings_exercises_and_quiz(client, demo, login):
    """A session page shows its objectives, rendered readings, exercises and the quiz."""
    login("nurse@example.org")
    session = db.session.scalar(select(CourseSession).where(CourseSession.number == 3))
    html = client.get(f"/learn/offerings/{demo.offering_id}/sessions/3").get_data(as_text=True)
    assert session.title in html
    for objective in session.objectives:
        assert objective.replace("'", "&#39;") in html or objective in html
    assert "not eligible for CE" in html
    assert "Learning exercises" in html and "Quiz" in html


def test_unknown_session_number_is_404(client, demo, login):
    """A session number that does not exist is a friendly 404."""
    login("lcsw@example.org")
    assert client.get(f"/learn/offerings/{demo.offering_id}/sessions/99").status_code == 404


def test_unknown_url_gets_a_friendly_404_in_the_layout(client):
    """An unknown URL shows the site's layout with a plain message."""
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Page not found" in html and 'href="/"' in html and "<main" in html


def test_public_course_page_needs_no_sign_in(client, demo):
    """Anyone can read the course page, with the upcoming demo offering."""
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Infant Mental Health" in html
    assert "not eligible" in html.lower() or "not available" in html.lower()


def test_security_headers(client):
    """Every response carries a CSP without inline scripts, nosniff and a referrer policy."""
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_personal_pages_are_not_cached(client, demo, login):
    """Pages for a signed-in person are Cache-Control: no-store."""
    login("lcsw@example.org")
    response = client.get("/learn", follow_redirects=True)
    assert response.headers["Cache-Control"] == "no-store"
