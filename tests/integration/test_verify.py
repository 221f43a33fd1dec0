"""The public verification page: certified facts and status, nothing more, no enumeration."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from imh_course.extensions import db
from imh_course.models import Certificate, User
from imh_course.models.audit_chain import Actor
from imh_course.operations.certificates import new_public_id, reissue_certificate, revoke_certificate
from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work


@pytest.fixture
def issued(app, client, login, demo) -> Certificate:
    """The LCSW's certificate (10 full meetings), issued by the coordinator; the client is signed out."""
    attend(demo.offering_id, demo.lcsw_id, 10)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    login("lcsw@example.org")
    evaluate(client, demo.offering_id)
    attest(client, app, demo.offering_id, demo.lcsw_id)
    login("coordinator@example.org")
    client.post(f"/staff/offerings/{demo.offering_id}/certificates/{demo.lcsw_id}/issue")
    client.post("/logout")
    client.get("/login")  # shows (and so clears) the "signed out" message
    return db.session.scalar(select(Certificate))


def coordinator() -> Actor:
    return Actor(
        user=db.session.scalar(select(User).where(User.email == "coordinator@example.org")),
        role="coordinator",
    )


def main_of(page: str) -> str:
    return page.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def test_anyone_can_verify_a_valid_certificate(client, issued):
    """Signed out, the page shows "Valid" and the certified facts as printed on the certificate."""
    response = client.get(f"/verify/{issued.public_id}")
    assert response.status_code == 200
    page = main_of(response.get_data(as_text=True))
    facts = issued.facts
    assert "Valid." in page and "Certificate of Continuing Education" in page
    for value in (
        facts["learner_name"],
        "LCSW",
        facts["course_title"],
        facts["offering_label"],
        "In person",
        "<dd>15.00</dd>",
        f"{facts['independent_hours']} hours — not eligible for CE",
        facts["provider_name"],
        "Provider No. SW-0000",
        facts["certificate_id"],
        "version 1",
        "Casey Coordinator",
    ):
        assert str(value).replace("'", "&#39;") in page, value
    assert response.headers["Cache-Control"] == "no-store"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_verification_reveals_nothing_more_personal_than_the_name(client, issued, demo):
    """No licence number, email, account name or internal ids appear on the public page."""
    page = main_of(client.get(f"/verify/{issued.public_id}").get_data(as_text=True))
    for secret in ("012345", "lcsw@example.org", "Lena Social-Worker", "/learn/", "Sign out"):
        assert secret not in page, secret


def test_unknown_and_malformed_ids_get_a_plain_not_found(client, issued):
    """Unknown, malformed or near-miss ids all answer the same plain 404."""
    near_miss = issued.public_id[:-1] + ("A" if issued.public_id[-1] != "A" else "B")
    bodies = set()
    for public_id in (new_public_id(), near_miss, "1", "x" * 200, "%27%20OR%201=1", str(issued.id)):
        response = client.get(f"/verify/{public_id}")
        assert response.status_code == 404, public_id
        page = main_of(response.get_data(as_text=True))
        assert "Certificate not found" in page
        bodies.add(page)
    assert len(bodies) == 1


def test_public_ids_are_opaque_and_random(client):
    """Ids carry 128 random bits (22 URL-safe characters): nothing sequential to guess."""
    ids = {new_public_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)


def test_superseded_version_says_so(app, client, issued):
    """After a reissue the old id shows "Superseded" (not pointing at the new one); the new id is valid."""
    with app.test_request_context():
        new = reissue_certificate(coordinator(), issued, "Name corrected")
    db.session.commit()
    old_page = main_of(client.get(f"/verify/{issued.public_id}").get_data(as_text=True))
    assert "Superseded." in old_page and new.public_id not in old_page
    assert "Valid." in main_of(client.get(f"/verify/{new.public_id}").get_data(as_text=True))


def test_revoked_certificate_says_revoked_without_the_reason(app, client, issued):
    """A revoked certificate shows "Revoked" and the date, but not the internal reason."""
    with app.test_request_context():
        revoke_certificate(coordinator(), issued, "Attendance fraud suspected")
    db.session.commit()
    page = main_of(client.get(f"/verify/{issued.public_id}").get_data(as_text=True))
    assert "Revoked." in page and "no longer valid" in page
    assert "fraud" not in page and "Valid." not in page


def test_a_tampered_record_cannot_be_verified(client, issued):
    """If the stored facts no longer match their hash, the page says it cannot be verified."""
    facts = dict(issued.facts, ce_hours="99.00")
    db.session.execute(update(Certificate).where(Certificate.id == issued.id).values(facts=facts))
    db.session.commit()
    page = main_of(client.get(f"/verify/{issued.public_id}").get_data(as_text=True))
    assert "cannot be verified" in page and "99.00" not in page and "Valid." not in page


def test_learner_status_page_links_to_verification(client, login, issued, demo):
    """The learner finds the download and the verification page of their certificate."""
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    assert f"/learn/certificates/{issued.public_id}.pdf" in page
    assert f"/verify/{issued.public_id}" in page


class TestRateLimit:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"RATELIMIT_ENABLED": True}

    def test_verification_is_rate_limited(self, client, demo):
        """Guessing ids is throttled: after 30 lookups a minute the page answers 429."""
        statuses = [client.get(f"/verify/{new_public_id()}").status_code for _ in range(31)]
        assert statuses[:30] == [404] * 30 and statuses[30] == 429


def test_every_certificate_route_declares_access(app):
    """Verification (of an id, or of a pasted credential at /verify) is public; every other
    certificate route needs a signed-in person."""
    from imh_course.security.access import ACCESS_ATTR

    for rule in app.url_map.iter_rules():
        if any(
            part in rule.rule for part in ("certificate", "verify", "evaluation", "attest", "training-log")
        ):
            access = getattr(app.view_functions[rule.endpoint], ACCESS_ATTR)
            verification = rule.rule == "/verify" or rule.rule.startswith("/verify/")
            assert (access == "public") == verification, rule.rule
