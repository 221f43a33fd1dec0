"""Grade passback (AGS) through the durable queue, against a loopback platform: never CE hours."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, func, select, update

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
    Reading,
    ScoreStatus,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.models.types import utcnow
from imh_course.operations.progress import mark_reading_complete, save_response
from imh_course.operations.quizzes import submit_attempt
from imh_course.records.ledgers import credit_policy, learner_ledger
from imh_course.rules.lti import AGS_CLAIM, COURSE_ITEM, completion_scores
from tests.integration.authoring_helpers import make_response
from tests.integration.certificate_helpers import attend, finish_independent_work
from tests.integration.learner_helpers import answers, current, quiz_for, quiz_form
from tests.integration.lti_helpers import BASE, Platform, ServicesServer, launch, linked_platform


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


# --- scores queued with the change itself ---------------------------------------------------------
def _published(model, number: int) -> list:  # noqa: ANN001
    return [item for item in current(model, number) if item.is_published]


def _graded_learner(client, app, demo, lms_services: ServicesServer):  # noqa: ANN001, ANN202
    """An LMS learner launched into the demo offering with grade passback on; the first values sent."""
    ags = {AGS_CLAIM: {"scope": [], "lineitems": lms_services.url + "/lineitems"}}
    lms, launcher, _link = linked_platform(app, lms_services, demo.offering_id, ags)
    assert launch(launcher, lms, **ags).status_code == 200
    learner = db.session.scalar(select(User).where(User.email == "pat.learner@lms.example.edu"))
    grades.send_due("w0", limit=100)
    assert db.session.scalar(select(func.count()).where(LtiScore.status != ScoreStatus.SENT)) == 0
    return launcher, learner


def _tool_jwks(client) -> dict:  # noqa: ANN001
    keys.rotate(Actor.system())
    db.session.commit()
    return client.get("/lti/jwks.json").get_json()


def _queued() -> dict[str, int]:
    return {
        row.item_key: row.score_given
        for row in db.session.scalars(select(LtiScore).where(LtiScore.status == ScoreStatus.QUEUED))
    }


def test_a_quiz_completed_in_the_page_queues_and_delivers_the_score(client, app, demo):
    """Finishing a session's last piece of work (its quiz, through the real page) queues the session's
    and the course's columns in that request's transaction; the worker posts them: completion, with the
    certificate's address in the comment, never the CE hours the learner also earned."""
    with ServicesServer(_tool_jwks(client), []) as lms_services:
        launcher, learner = _graded_learner(client, app, demo, lms_services)
        offering = db.session.get(Offering, demo.offering_id)
        actor = Actor(user=learner, role="learner")
        attend(demo.offering_id, learner.id, 3)  # CE contact hours: no input to any score
        for reading in _published(Reading, 1):
            mark_reading_complete(actor, offering, reading)
        for exercise in _published(Exercise, 1):
            save_response(actor, offering, exercise, "My reflection.", submit=True, share=False)
        db.session.commit()
        assert _queued() == {}  # the session is not complete yet: no value changed

        quiz = quiz_for(1)
        url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
        assert launcher.post(url, data=quiz_form(quiz, 1), base_url=BASE).status_code == 302
        db.session.expire_all()
        assert _queued() == {"session-1": 1, COURSE_ITEM: 1}

        before = len(lms_services.scores)
        result = app.test_cli_runner().invoke(args=["imh", "outbox", "run", "--once"])  # the mail worker
        assert result.exit_code == 0 and "LMS scores 2 sent, 0 to retry" in result.output, result.output
        posted = {
            lms_services.line_items[lms_services.url + s["line_item"]]["resourceId"]: s
            for s in lms_services.scores[before:]
        }
        sessions = len(offering.course.sessions)
        assert posted["imh-session-1"]["scoreGiven"] == 1 and posted["imh-session-1"]["scoreMaximum"] == 1
        assert posted["imh-course"]["scoreGiven"] == 1 and posted["imh-course"]["scoreMaximum"] == sessions
        assert posted["imh-session-1"]["activityProgress"] == "Completed"
        ledger = learner_ledger(offering, learner.id, credit_policy(app.config))
        assert ledger.ce_minutes > 0  # earned, and posted nowhere
        for score in posted.values():
            assert score["userId"] == "lms-user-1"
            assert set(score) == {"line_item", "userId", "scoreGiven", "scoreMaximum", "activityProgress",
                                  "gradingProgress", "timestamp", "comment"}  # fmt: skip
            certificates = f"/learn/offerings/{demo.offering_id}/certificates"
            assert score["comment"].endswith(certificates), score["comment"]
            assert str(ledger.ce_hours) not in score["comment"]


def test_a_rolled_back_change_queues_nothing(client, app, demo):
    with ServicesServer(_tool_jwks(client), []) as lms_services:
        _launcher, learner = _graded_learner(client, app, demo, lms_services)
        offering = db.session.get(Offering, demo.offering_id)
        actor = Actor(user=learner, role="learner")
        for reading in _published(Reading, 2):
            mark_reading_complete(actor, offering, reading)
        for exercise in _published(Exercise, 2):
            save_response(actor, offering, exercise, "Draft and submit.", submit=True, share=False)
        quiz = quiz_for(2)
        assert submit_attempt(actor, offering, quiz, 1, _answers(quiz)).attempt.passed
        assert _queued() == {"session-2": 1, COURSE_ITEM: 1}  # queued in the transaction…
        db.session.rollback()
        assert _queued() == {}  # …and gone with it
        assert grades.send_due("w1") == (0, 0)


def test_a_learner_without_an_lms_link_costs_one_lti_query(client, app, demo):
    """For everyone else the hook is one query (on the LTI tables), and queues nothing."""
    offering = db.session.get(Offering, demo.offering_id)
    learner = db.session.get(User, demo.lcsw_id)
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    quiz = quiz_for(1)
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        outcome = submit_attempt(Actor(user=learner, role="learner"), offering, quiz, 1, _answers(quiz))
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert outcome.attempt.passed
    db.session.commit()
    assert len([s for s in statements if "imh_lti" in s]) == 1
    assert db.session.scalar(select(func.count()).select_from(LtiScore)) == 0


def _answers(quiz) -> dict[str, list[str]]:  # noqa: ANN001
    return {key.removeprefix("q_"): value for key, value in answers(quiz).items()}
