"""Grade passback (AGS) through the durable queue, against a loopback platform: never CE hours."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from imh_course.extensions import db
from imh_course.lti import grades, keys
from imh_course.lti.platforms import connect_resource_link
from imh_course.models import (
    Exercise,
    LtiLineItem,
    LtiPlatform,
    LtiResourceLink,
    LtiScore,
    Offering,
    ScoreStatus,
    User,
)
from imh_course.models.types import utcnow
from imh_course.operations.audit import Actor
from imh_course.rules.lti import AGS_CLAIM, COURSE_ITEM, completion_scores
from tests.integration.authoring_helpers import make_response
from tests.integration.certificate_helpers import attend, finish_independent_work
from tests.integration.lti_helpers import Platform, ServicesServer, launch


def test_completion_scores_come_from_independent_work_only():
    """Session columns are 1/0; the course column counts complete sessions; there is no CE input at all."""
    scores = completion_scores([(2, False), (1, True), (3, True)])
    assert scores == {"session-1": (1, 1), "session-2": (0, 1), "session-3": (1, 1), COURSE_ITEM: (2, 3)}


def _course_score(server: ServicesServer) -> dict:
    course_item = next(url for url, item in server.line_items.items() if item["resourceId"] == "imh-course")
    return [s for s in server.scores if server.url + s["line_item"] == course_item][-1]


def test_scores_are_queued_when_they_change_and_retried_until_posted(client, app, demo):
    keys.rotate(Actor.system())
    db.session.commit()
    with ServicesServer(client.get("/lti/jwks.json").get_json(), []) as lms_services:
        lms = Platform()
        lms.register()
        platform = db.session.get(LtiPlatform, lms.platform_id)
        platform.token_url = lms_services.url + "/token"
        db.session.commit()
        ags = {AGS_CLAIM: {"scope": [], "lineitems": lms_services.url + "/lineitems"}}
        launcher = app.test_client()
        assert launch(launcher, lms, **ags).status_code == 200
        link = db.session.scalar(select(LtiResourceLink))
        assert link.lineitems_url == lms_services.url + "/lineitems"
        connect_resource_link(Actor.system(), link, db.session.get(Offering, demo.offering_id), None)
        db.session.commit()
        assert launch(launcher, lms, **ags).status_code == 200  # enrols, queues every column
        learner = db.session.scalar(select(User).where(User.email == "pat.learner@lms.example.edu"))
        sessions = len(db.session.get(Offering, demo.offering_id).course.sessions)
        assert db.session.scalar(select(func.count()).select_from(LtiScore)) == sessions + 1

        assert grades.send_due("w1", limit=100) == (sessions + 1, 0)
        assert len(lms_services.line_items) == sessions + 1
        labels = {item["label"] for item in lms_services.line_items.values()}
        assert "Session 1 complete (readings, exercise, quiz)" in labels
        assert all(s["userId"] == "lms-user-1" for s in lms_services.scores)
        assert _course_score(lms_services)["scoreGiven"] == 0
        assert _course_score(lms_services)["scoreMaximum"] == sessions
        assert "CE certificate: " in _course_score(lms_services)["comment"]

        # Attendance (CE contact hours) changes no score.
        attend(demo.offering_id, learner.id, 10)
        assert grades.scan() == 0

        # Independent work does; the first post fails, is retried later, and the latest value lands.
        finish_independent_work(demo.offering_id, learner.id)
        for exercise in db.session.scalars(select(Exercise).where(Exercise.is_current.is_(True))):
            make_response(learner.id, demo.offering_id, exercise)
        queued = grades.scan()
        db.session.commit()
        assert queued >= 1
        lms_services.fail_scores = 1
        sent, failed = grades.send_due("w1", limit=100)
        assert failed == 1 and sent == queued - 1
        waiting = db.session.scalar(select(LtiScore).where(LtiScore.status == ScoreStatus.QUEUED))
        assert waiting.attempts == 1 and "503" in waiting.last_error and waiting.next_attempt_dt > utcnow()
        assert grades.send_due("w1") == (0, 0)  # not due yet
        db.session.execute(update(LtiScore).values(next_attempt_dt=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        assert grades.send_due("w1") == (1, 0)
        assert db.session.scalar(select(func.count()).where(LtiScore.status != ScoreStatus.SENT)) == 0
        expected = db.session.scalar(select(LtiScore.score_given).where(LtiScore.item_key == COURSE_ITEM))
        assert expected > 0 and _course_score(lms_services)["scoreGiven"] == expected
        assert db.session.scalar(select(func.count()).select_from(LtiLineItem)) == sessions + 1  # made once
