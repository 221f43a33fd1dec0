"""Records and privacy: a learner's data export, and erasure that keeps the minimal CE record."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import (
    AccountToken,
    AttendanceRecord,
    AuditEvent,
    Certificate,
    ExerciseResponse,
    ExerciseResponseRevision,
    Offering,
    ResponseStatus,
    TokenPurpose,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.operations.certificates import issue_certificate
from imh_course.operations.tokens import issue_token
from imh_course.security.roles import Role
from tests.integration.coordinator_helpers import SECRET_TEXT, give_records


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def certified(app, demo):
    """The LCSW attended everything, did all the work and holds a CE certificate."""
    give_records(demo.offering_id, demo.lcsw_id, attended=11)
    coordinator = db.session.get(User, demo.coordinator_id)
    response = db.session.scalars(
        select(ExerciseResponse).where(ExerciseResponse.user_id == demo.lcsw_id)
    ).first()
    db.session.add(
        ExerciseResponseRevision(
            response_id=response.id,
            revision=1,
            body=SECRET_TEXT,
            status=ResponseStatus.SUBMITTED,
            is_shared=False,
            exercise_id=response.exercise_id,
        )
    )
    with app.test_request_context():  # the certificate prints its verification URL
        outcome = issue_certificate(
            Actor(coordinator, "coordinator"),
            db.session.get(Offering, demo.offering_id),
            db.session.get(User, demo.lcsw_id),
        )
    db.session.commit()
    return outcome.certificate.public_id


def test_learner_downloads_their_own_data_with_their_responses(client, demo, certified, login):
    """/learn/my-data.json holds profile, enrolments, attendance, work, responses, attempts, certificates."""
    login("lcsw@example.org")
    response = client.get("/learn/my-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "lcsw@example.org"
    assert data["profile"]["license_number"] == "012345"
    assert data["enrolments"][0]["offering_id"] == demo.offering_id
    assert len(data["attendance"]) == 11 and data["attendance"][0]["status"] == "present"
    assert data["reading_completions"] and data["quiz_attempts"][0]["passed"] is True
    assert data["exercise_responses"][0]["text"] == SECRET_TEXT
    assert data["certificates"][0]["certificate_id"] == certified
    assert "pdf" not in data["certificates"][0]
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "export.download")).one()
    assert event.actor_id == demo.lcsw_id and event.after["report"] == "learner_data"


def test_coordinator_copy_leaves_out_the_response_text(client, demo, certified, login):
    """The coordinator's data export has everything but the private text of exercise responses."""
    login("coordinator@example.org")
    response = client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}/data.json")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert SECRET_TEXT not in body
    data = json.loads(body)
    assert (
        data["exercise_responses"][0]["status"] == "submitted" and "text" not in data["exercise_responses"][0]
    )
    assert "private to the learner" in data["note"]


def test_erasure_pseudonymises_the_profile_and_keeps_the_ce_record(app, demo, certified, login):
    """Erasure pseudonymises and signs the learner out; attendance, certificates and audit events stay."""
    learner_client = app.test_client()
    learner_client.post("/login", data={"email": "lcsw@example.org", "password": "correct-horse-battery"})
    assert learner_client.get("/learn/profile").status_code == 200
    invite = issue_token(db.session.get(User, demo.lcsw_id), TokenPurpose.INVITE)
    db.session.commit()
    before = (count(AttendanceRecord), count(Certificate), count(AuditEvent))
    facts = db.session.scalar(select(Certificate.facts).where(Certificate.public_id == certified))

    coordinator = app.test_client()
    coordinator.post("/login", data={"email": "coordinator@example.org", "password": "correct-horse-battery"})
    url = f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}/erase"
    assert coordinator.get(url).status_code == 200
    response = coordinator.post(
        url, data={"reason": "Learner's request of 2026-11-02 by email", "confirm": "y"}
    )
    assert response.status_code == 302

    db.session.expire_all()
    user = db.session.get(User, demo.lcsw_id)
    uid = user.id
    assert user.email == f"erased-{uid}@invalid"
    assert user.full_name == user.profile.certificate_name == f"Erased learner {uid}"
    assert (user.profile.discipline, user.profile.license_number, user.password_hash) == (None, None, None)
    assert user.erased_dt is not None and not user.is_enabled
    signed_out = learner_client.get("/learn/profile")  # the old session no longer works
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    assert app.test_client().get(f"/account/set-password/{invite}").status_code != 200
    assert (
        db.session.scalar(
            select(func.count()).select_from(AccountToken).where(AccountToken.used_dt.is_(None))
        )
        == 0
    )
    texts = db.session.scalars(select(ExerciseResponse.body).where(ExerciseResponse.user_id == uid)).all()
    assert texts and set(texts) == {""}
    assert set(db.session.scalars(select(ExerciseResponseRevision.body))) == {""}

    attendance, certificates, events = before
    assert (count(AttendanceRecord), count(Certificate)) == (attendance, certificates)
    assert count(AuditEvent) == events + 1
    assert db.session.scalar(select(Certificate.facts).where(Certificate.public_id == certified)) == facts
    erase = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "learner.erase")).one()
    assert erase.reason == "Learner's request of 2026-11-02 by email" and erase.learner_id == uid
    assert "lcsw@example.org" not in json.dumps(erase.after)
    assert coordinator.get(f"/verify/{certified}").status_code == 200  # the certificate still verifies


def test_erasure_needs_a_reason_and_confirmation(client, demo, login):
    """Without a reason or the confirmation box, nothing is erased (400)."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/learners/{demo.nurse_id}/erase"
    for data in ({"reason": "", "confirm": "y"}, {"reason": "Request"}):
        response = client.post(url, data=data)
        assert response.status_code == 400
    assert db.session.get(User, demo.nurse_id).erased_dt is None


def test_erasing_twice_or_a_staff_member_is_refused(client, demo, login, make_user):
    """An erased profile cannot be erased again; an account with staff roles is refused."""
    from imh_course.models import Enrolment

    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/learners/{demo.nurse_id}/erase"
    assert client.post(url, data={"reason": "Request", "confirm": "y"}).status_code == 302
    again = client.post(url, data={"reason": "Request", "confirm": "y"})
    assert again.status_code == 400 and "This profile was erased on" in again.get_data(as_text=True)
    both = make_user(roles=[Role.LEARNER, Role.INSTRUCTOR], email="both@example.org")
    db.session.add(Enrolment(offering_id=demo.offering_id, user_id=both.id))
    db.session.commit()
    refused = client.post(
        f"/staff/offerings/{demo.offering_id}/learners/{both.id}/erase",
        data={"reason": "Request", "confirm": "y"},
    )
    assert refused.status_code == 400 and "staff roles" in refused.get_data(as_text=True)


def test_only_coordinators_export_or_erase_someone_else(client, demo, login):
    """Instructors and learners cannot download another learner's data or erase them."""
    for email in ("instructor@example.org", "lmhc@example.org"):
        login(email)
        assert (
            client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}/data.json").status_code
            == 403
        )
        assert (
            client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}/erase").status_code
            == 403
        )
        client.post("/logout")
    login("instructor@example.org")
    assert client.get("/learn/my-data.json").status_code == 403  # not a learner
