"""xAPI statements are queued with their cause, only when an LRS is configured (no LRS needed here)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import create_app
from imh_course.extensions import db
from imh_course.models import (
    ExerciseResponse,
    Meeting,
    Offering,
    User,
    XapiStatement,
    XapiStatus,
)
from imh_course.models.audit_chain import Actor
from imh_course.models.types import utcnow
from imh_course.operations.attendance import mark
from imh_course.operations.certificates import certificates_of, revoke_certificate
from imh_course.operations.progress import mark_reading_complete, save_response
from imh_course.rules.credit import AttendanceStatus
from imh_course.xapi.queue import deliver_due
from imh_course.xapi.statements import mbox_sha1sum
from tests.integration.learner_helpers import exercise_for, readings_for
from tests.integration.xapi_helpers import BASE_URL, queued, run_demo_story, statements, verbs, xapi_config

#: nothing listens on the discard port: delivery fails fast, so these tests never reach an LRS
UNREACHABLE = "http://127.0.0.1:9/xAPI/"


def test_off_by_default_a_whole_term_queues_nothing(app, demo):
    assert app.config["IMH_XAPI_ENDPOINT"] == ""
    assert queued() == []


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"IMH_XAPI_SECRET": ""}, "IMH_XAPI_KEY and IMH_XAPI_SECRET are required"),
        ({"IMH_XAPI_ENDPOINT": "ftp://lrs.example.org"}, r"must be an http\(s\) URL"),
        ({"IMH_BASE_URL": ""}, "IMH_BASE_URL is required"),
        ({"IMH_XAPI_ENDPOINT": ""}, "IMH_XAPI_ENDPOINT is empty"),
    ],
)
def test_half_a_configuration_stops_the_start_with_the_reason(database_url, changes, words):
    config = {"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **xapi_config(UNREACHABLE)}
    with pytest.raises(RuntimeError, match=words):
        create_app({**config, **changes})


class TestConfigured:
    @pytest.fixture
    def app_config(self):
        return xapi_config(UNREACHABLE)

    @pytest.fixture
    def term(self, demo, runner):
        run_demo_story(runner)
        return demo

    def test_a_term_queues_each_event_once_with_hashed_address_and_no_exercise_text(self, app, term):
        rows = queued()
        counts = Counter(verbs())
        assert {"attended", "completed", "submitted", "passed", "earned"} <= set(counts)
        assert len({r.statement_id for r in rows}) == len(rows)
        bodies = [b for b in db.session.scalars(select(ExerciseResponse.body)) if b.strip()]
        assert bodies
        emails = list(db.session.scalars(select(User.email)))
        for row in rows:
            assert not any(body in row.content for body in bodies)
            assert not any(email in row.content for email in emails)
        learners = {s["actor"]["mbox_sha1sum"] for s in statements()}
        assert mbox_sha1sum("lcsw@example.org") in learners
        assert all(
            s["object"]["id"].startswith(BASE_URL + "/xapi/")
            for s in statements()
            if s["object"].get("id", "").startswith("http")
        )

    def test_a_rolled_back_event_queues_nothing(self, app, term, make_user):
        before = len(queued())
        offering = db.session.get(Offering, term.offering_id)
        learner = db.session.get(User, term.nurse_id)
        actor = Actor(user=learner, role="learner")
        [reading, *_] = [r for r in readings_for(11)]
        completion, created = mark_reading_complete(actor, offering, reading)
        assert created and len(queued()) == before + 1
        db.session.rollback()
        assert len(queued()) == before

    def test_saving_a_draft_sends_nothing_and_submitting_sends_no_text(self, app, term):
        offering = db.session.get(Offering, term.offering_id)
        learner = db.session.get(User, term.nurse_id)
        actor = Actor(user=learner, role="learner")
        exercise = exercise_for(11)
        before = len(queued())
        secret = "My grandmother's kitchen, where nobody spoke of it"
        save_response(actor, offering, exercise, secret, submit=False, share=False)
        assert len(queued()) == before
        save_response(actor, offering, exercise, secret, submit=True, share=False)
        save_response(actor, offering, exercise, secret + ".", submit=True, share=True)  # still submitted
        db.session.commit()
        [row] = queued()[before:]
        assert row.verb == "submitted" and "grandmother" not in row.content

    def test_a_correction_voids_the_earlier_attendance_statement(self, app, term):
        offering = db.session.get(Offering, term.offering_id)
        meeting = db.session.scalars(
            select(Meeting).where(Meeting.offering_id == offering.id).order_by(Meeting.start_dt.desc())
        ).first()
        learner = db.session.get(User, term.nurse_id)
        staff = Actor(user=db.session.get(User, term.coordinator_id), role="coordinator")
        before = len(queued())
        end = meeting.end_dt + timedelta(minutes=1)
        mark(staff, meeting, learner, AttendanceStatus.PRESENT, None, None, now=end)
        [first] = queued()[before:]
        late = meeting.start_dt + timedelta(minutes=30)
        mark(
            staff,
            meeting,
            learner,
            AttendanceStatus.LATE,
            late,
            None,
            "arrived late, per the sign-in sheet",
            now=end,
        )
        db.session.commit()
        void, second = statements()[before + 1 :]
        assert void["object"] == {"objectType": "StatementRef", "id": first.statement_id}
        ext = second["result"]["extensions"]
        assert ext[BASE_URL + "/xapi/extensions/credited-minutes"] == meeting.length_minutes - 30
        mark(staff, meeting, learner, AttendanceStatus.ABSENT, None, None, "wrong learner marked", now=end)
        db.session.commit()
        assert verbs()[before:] == ["attended", "voided", "attended", "voided"]

    def test_revoking_a_certificate_voids_its_earned_statement(self, app, term):
        earned = [r for r in queued() if r.verb == "earned"]
        assert earned
        row = earned[0]
        certificate = next(
            c
            for u in db.session.scalars(select(User))
            for o in db.session.scalars(select(Offering))
            for c in certificates_of(o.id, u.id)
            if row.subject == f"certificate:{c.public_id}"
        )
        coordinator = Actor(user=db.session.get(User, term.coordinator_id), role="coordinator")
        revoke_certificate(coordinator, certificate, "issued to the wrong person")
        db.session.commit()
        last = statements()[-1]
        assert last["verb"]["id"].endswith("/voided") and last["object"]["id"] == row.statement_id

    def test_an_unreachable_lrs_keeps_every_statement_queued_with_backoff(self, app, term):
        total = len(queued())
        report = deliver_due()
        assert report.sent == 0 and report.retrying == 7  # one batch, then it stops trying
        rows = queued()
        assert len(rows) == total
        waiting = [r for r in rows if r.attempts == 1]
        assert len(waiting) == 7
        assert all(r.status is XapiStatus.QUEUED and r.next_attempt_dt > utcnow() for r in waiting)
        assert all("LRS unreachable" in r.last_error for r in waiting)
        assert deliver_due().attempted == 7  # the next batch; the first is not due yet
        assert sorted(r.attempts for r in queued()) == [0] * (total - 14) + [1] * 14
        assert (
            db.session.scalar(select(XapiStatement.id).where(XapiStatement.status != XapiStatus.QUEUED))
            is None
        )


def test_the_worker_without_an_lrs_says_what_to_set(runner):
    result = runner.invoke(args=["imh", "xapi", "run", "--once"])
    assert result.exit_code == 1
    assert "no LRS configured (set IMH_XAPI_ENDPOINT" in result.output
