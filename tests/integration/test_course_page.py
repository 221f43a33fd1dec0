"""The public course page, built from readings/course.yaml and the scheduled offerings."""

from __future__ import annotations

from imh_course.content.schema import COMPETENCY_DOMAINS


def test_course_page_shows_the_agency_description(client, demo, content):
    """Anyone sees what the training is, its hours, guideposts, audience, domains, cost and contact."""
    html = client.get("/").get_data(as_text=True)
    course = content.course
    assert course.title in html and course.provider in html
    for objective in course.objectives[:2]:
        assert objective[:40].replace("'", "&#39;") in html
    for tenet in course.tenets:
        assert tenet[:30].replace("'", "&#39;") in html
    assert course.additional_guidepost[:30] in html
    assert course.contact_email in html
    assert "16.5" in html and "not" in html.lower()
    for license_type in ("LMSW", "LCSW", "LMHC", "LCAT"):
        assert f"<li>{license_type}</li>" in html
    for domain in COMPETENCY_DOMAINS:
        assert domain.replace("&", "&amp;") in html
    assert "$1,200" in html


def test_course_page_lists_the_upcoming_offering_with_schedule_and_instructors(client, demo):
    """The upcoming demo offering appears with its 11 meetings and its instructor."""
    html = client.get("/").get_data(as_text=True)
    assert "Upcoming offerings" in html
    assert "Indira Instructor" in html
    assert html.count("<tr><td>") == 11


def test_course_page_before_content_is_loaded(client):
    """An empty install explains how to load the content instead of failing."""
    response = client.get("/")
    assert response.status_code == 200
    assert "flask imh content sync" in response.get_data(as_text=True)
