"""Roster sync (NRPS) against a loopback platform: new, returning and departed learners; audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.lti import keys
from imh_course.lti.platforms import connect_resource_link
from imh_course.models import AuditEvent, Enrolment, LtiResourceLink, Offering, User
from imh_course.models.audit_chain import Actor
from imh_course.operations.accounts import create_user
from imh_course.rules.lti import LEARNER_ROLE, NRPS_CLAIM, NRPS_SCOPE
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.integration.lti_helpers import Platform, ServicesServer, launch, linked_platform

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


def _member(sub: str, name: str, role: str = LEARNER_ROLE, status: str = "Active") -> dict:
    return {
        "user_id": sub,
        "name": name,
        "email": f"{sub}@lms.example.edu",
        "roles": [role],
        "status": status,
    }


@pytest.fixture
def admin(app, login):  # noqa: ARG001
    create_user(Actor.system(), email="admin@example.org", full_name="Ada Admin", roles=[Role.ADMIN],
                password=TEST_PASSWORD)  # fmt: skip
    db.session.commit()
    login("admin@example.org")


def _nrps(services: ServicesServer) -> dict:
    return {NRPS_CLAIM: {"context_memberships_url": services.url + "/members", "service_versions": ["2.0"]}}


def test_sync_roster_enrols_learners_and_shows_who_left(client, app, admin, demo):  # noqa: ARG001
    """New learners get accounts and enrolments, returning ones stay, departed ones are listed; audited."""
    keys.rotate(Actor.system())
    db.session.commit()
    tool_jwks = client.get("/lti/jwks.json").get_json()
    members = [
        _member("lms-user-1", "Pat Learner"),  # launched before: returning
        _member("s2", "Sam Second"),
        _member("s3", "Tia Third"),
        _member("t1", "Tess Teacher", role=INSTRUCTOR),  # not a learner: not enrolled
        _member("s4", "Ina Inactive", status="Inactive"),
    ]
    with ServicesServer(tool_jwks, members) as lms_services:
        nrps = _nrps(lms_services)
        lms, launcher, link = linked_platform(app, lms_services, demo.offering_id, nrps)
        assert launch(launcher, lms, **nrps).status_code == 200  # Pat enrolled by the launch
        # A learner of this LMS enrolled here who is no longer in the LMS course.
        gone = {"sub": "gone-1", "email": "gone@lms.example.edu", "name": "Gil Gone"}
        assert launch(launcher, lms, **gone, **nrps).status_code == 200

        response = client.post(f"/admin/lti/resource-links/{link.id}/sync")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert "2 newly enrolled, 1 already enrolled, 1 no longer in the LMS course" in page
        assert "Gil Gone" in page
        assert lms_services.assertions[0]["scope"] == NRPS_SCOPE
        assert lms_services.assertions[0]["iss"] == lms.client_id
        assert any("start=2" in call for call in lms_services.calls)  # followed the next page

    enrolled = set(
        db.session.scalars(
            select(User.full_name)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(Enrolment.offering_id == demo.offering_id)
        )
    )
    assert {"Pat Learner", "Sam Second", "Tia Third", "Gil Gone"} <= enrolled
    assert "Tess Teacher" not in enrolled and "Ina Inactive" not in enrolled
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lti.roster_sync"))
    assert event.after == {"new": 2, "returning": 1, "left": 1, "skipped": 0}


def test_sync_roster_refuses_clearly_and_changes_nothing(client, admin, demo):  # noqa: ARG001
    """Not connected, no roster service, or the platform unreachable: a message, no change."""
    lms = Platform()
    lms.register()
    launcher = client.application.test_client()
    assert launch(launcher, lms).status_code == 200
    link = db.session.scalar(select(LtiResourceLink))
    response = client.post(f"/admin/lti/resource-links/{link.id}/sync", follow_redirects=True)
    assert "Connect the link to an offering first." in response.get_data(as_text=True)
    connect_resource_link(Actor.system(), link, db.session.get(Offering, demo.offering_id), None)
    db.session.commit()
    response = client.post(f"/admin/lti/resource-links/{link.id}/sync", follow_redirects=True)
    assert "has not offered its roster service" in response.get_data(as_text=True)
    link = db.session.get(LtiResourceLink, link.id)
    link.memberships_url = "http://127.0.0.1:9/members"
    link.platform.token_url = "http://127.0.0.1:9/token"  # nothing listens there
    db.session.commit()
    before = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    response = client.post(f"/admin/lti/resource-links/{link.id}/sync", follow_redirects=True)
    assert "The roster could not be read" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)) == before


def test_a_coordinator_syncs_the_roster_from_the_offerings_enrolments_page(client, app, login, demo):
    """The button shows only for an offering linked to an LMS course with its roster; the sync is the
    admin's (same counts, same audit), recorded as the coordinator's."""
    keys.rotate(Actor.system())
    db.session.commit()
    login("coordinator@example.org")
    enrolments = f"/staff/offerings/{demo.offering_id}/enrolments"
    assert "Sync roster from the LMS" not in client.get(enrolments).get_data(as_text=True)
    refused = client.post(enrolments + "/lms-sync", follow_redirects=True)
    assert "No LMS link of this offering has offered its roster yet" in refused.get_data(as_text=True)

    members = [_member("lms-user-1", "Pat Learner"), _member("s2", "Sam Second")]
    with ServicesServer(client.get("/lti/jwks.json").get_json(), members) as lms_services:
        nrps = _nrps(lms_services)
        lms, launcher, link = linked_platform(app, lms_services, demo.offering_id, nrps)

        page = client.get(enrolments).get_data(as_text=True)
        assert "Sync roster from the LMS" in page and f'action="{enrolments}/lms-sync"' in page
        response = client.post(enrolments + "/lms-sync")
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert "2 newly enrolled, 0 already enrolled, 0 no longer in the LMS course" in page
        assert "Sam Second" in page and f'href="{enrolments}"' in page

    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "lti.roster_sync"))
    assert event.actor_id == demo.coordinator_id and event.offering_id == demo.offering_id
    assert event.after == {"new": 2, "returning": 0, "left": 0, "skipped": 0}
    enrolled = set(db.session.scalars(select(User.full_name).join(Enrolment, Enrolment.user_id == User.id)))
    assert {"Pat Learner", "Sam Second"} <= enrolled
