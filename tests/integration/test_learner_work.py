"""The learner's independent work: readings, exercises, quizzes — and the two ledgers."""

from __future__ import annotations

import re

from markupsafe import escape
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import (
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    ExerciseResponse,
    ExerciseResponseRevision,
    QuizAttempt,
    ReadingCompletion,
)
from imh_course.security.roles import Role
from tests.integration.learner_helpers import exercise_for, quiz_for, quiz_form, readings_for


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def ledger_text(html: str) -> tuple[str, str]:
    ce = re.search(r"CE contact hours: ([\d.]+) of ([\d.]+)", html)
    ind = re.search(r"Independent learning: ([\d.]+) of ~([\d.]+) hours", html)
    assert ce and ind, "both ledgers are on the dashboard"
    return ce.group(1), ind.group(1)


def test_dashboard_shows_two_separate_ledgers(client, demo, login):
    """The dashboard has two bars: CE of 16.50 from sessions and independent learning marked not CE."""
    login("lcsw@example.org")
    html = client.get(f"/learn/offerings/{demo.offering_id}").get_data(as_text=True)
    assert "CE contact hours: 0.00 of 16.50" in html
    assert "(face-to-face sessions)" in html
    assert "— not eligible for CE" in html
    assert html.count("<progress") == 2
    assert "Up next" in html


def test_marking_a_reading_is_idempotent_and_moves_only_independent_learning(client, demo, login):
    """One click marks a reading read (twice is still once); CE hours do not move."""
    login("lcsw@example.org")
    reading = readings_for(1)[0]
    url = f"/learn/offerings/{demo.offering_id}/readings/{reading.key}/complete"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    rows = db.session.scalars(select(ReadingCompletion)).all()
    assert len(rows) == 1 and rows[0].completed_dt is not None and rows[0].reading_id == reading.id
    ce, independent = ledger_text(client.get(f"/learn/offerings/{demo.offering_id}").get_data(as_text=True))
    assert ce == "0.00"
    assert independent == f"{reading.estimated_minutes / 60:.2f}" or float(independent) > 0


def test_exercise_draft_submit_and_history(client, demo, login):
    """Draft, submit, edit: every save is kept; the response is private unless shared."""
    login("nurse@example.org")
    exercise = exercise_for(2)
    url = f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}"
    assert "private" in client.get(url).get_data(as_text=True)
    client.post(url, data={"body": "First thoughts", "save_draft": "Save draft"})
    response = db.session.scalar(select(ExerciseResponse))
    assert response.status.value == "draft" and response.is_shared is False
    client.post(url, data={"body": "Final thoughts", "submit_response": "Submit"})
    client.post(url, data={"body": "Final thoughts, revised", "share": "y", "save_draft": "Save draft"})
    db.session.expire_all()
    response = db.session.scalar(select(ExerciseResponse))
    assert response.status.value == "submitted" and response.is_shared is True
    assert response.submitted_dt is not None
    bodies = [
        r.body
        for r in db.session.scalars(
            select(ExerciseResponseRevision).order_by(ExerciseResponseRevision.revision)
        )
    ]
    assert bodies == ["First thoughts", "Final thoughts", "Final thoughts, revised"]
    page = client.get(url).get_data(as_text=True)
    assert "Earlier versions" in page and "First thoughts" in page


def test_exercise_html_is_escaped(client, demo, login):
    """Whatever a learner types is shown as text, never run."""
    login("nurse@example.org")
    exercise = exercise_for(2)
    url = f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}"
    client.post(url, data={"body": "<script>alert(1)</script> **bold**", "submit_response": "Submit"})
    stored = db.session.scalar(select(ExerciseResponse))
    assert "<script>" not in stored.body_html and "<strong>bold</strong>" in stored.body_html


def test_empty_submission_is_refused_with_a_message(client, demo, login):
    """Submitting an empty response re-renders with a clear message and stores nothing."""
    login("nurse@example.org")
    exercise = exercise_for(2)
    response = client.post(
        f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}",
        data={"body": "  ", "submit_response": "Submit"},
    )
    assert response.status_code == 400
    assert "Write your response before submitting it." in response.get_data(as_text=True)
    assert count(ExerciseResponse) == 0


def test_coordinator_cannot_open_a_learners_exercise(client, demo, login):
    """Coordinators never see response text: the learner pages refuse them."""
    login("coordinator@example.org")
    exercise = exercise_for(2)
    assert client.get(f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}").status_code == 403


def test_quiz_page_does_not_reveal_the_answer_key(client, demo, login):
    """The quiz form carries option ids and texts only: no feedback, no correctness."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    html = client.get(f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}").get_data(as_text=True)
    for question in quiz.questions:
        for option in question.options:
            assert option["feedback_html"] not in html
    assert "correct" not in html.lower().replace("incorrect", "")


def test_fail_then_pass(client, demo, login):
    """A failed attempt shows the score and allows a retry; passing counts for independent learning only."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    first = client.post(url, data=quiz_form(quiz, 1, correct=False))
    result = client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Not passed" in result and "Try again" in result
    second = client.post(url, data=quiz_form(quiz, 2))
    result = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "100%" in result and "Passed" in result
    attempts = db.session.scalars(select(QuizAttempt).order_by(QuizAttempt.attempt_no)).all()
    assert [(a.attempt_no, a.passed) for a in attempts] == [(1, False), (2, True)]
    ce, independent = ledger_text(client.get(f"/learn/offerings/{demo.offering_id}").get_data(as_text=True))
    assert ce == "0.00" and float(independent) > 0


def test_attempt_heading_reads_well_after_a_title_ending_in_a_question_mark(client, demo, login):
    """ "What Is Infant Mental Health?: attempt 1" read as a typo; the heading drops the colon."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    assert quiz.title.endswith("?")
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    result = client.get(client.post(url, data=quiz_form(quiz, 1)).headers["Location"]).get_data(as_text=True)
    title = escape(quiz.title)
    assert f"<h1>{title} Attempt 1</h1>" in result
    assert "?: attempt" not in result


def test_up_next_counts_readings_in_words(client, demo, login):
    """The dashboard says "2 readings to mark as read", then "1 reading", never "reading(s)"."""
    login("lcsw@example.org")
    dashboard = f"/learn/offerings/{demo.offering_id}"
    html = client.get(dashboard).get_data(as_text=True)
    next_number = int(re.search(r'Up next</h2>\s*<p><a href="[^"]*/sessions/(\d+)"', html).group(1))
    readings = readings_for(next_number)
    assert len(readings) == 2
    assert "Before then: 2 readings to mark as read" in html and "reading(s)" not in html
    client.post(f"/learn/offerings/{demo.offering_id}/readings/{readings[0].key}/complete")
    html = client.get(dashboard).get_data(as_text=True)
    assert "Before then: 1 reading to mark as read" in html


def test_resubmitting_the_same_attempt_grades_once(client, demo, login):
    """A double click or a retried request with the same form produces exactly one attempt."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    data = quiz_form(quiz, 1, correct=False)
    first = client.post(url, data=data)
    again = client.post(url, data=data)
    assert first.headers["Location"] == again.headers["Location"]
    assert count(QuizAttempt) == 1


def test_two_tabs_produce_one_attempt(client, demo, login):
    """Two tabs opened before either submits: the second submission returns the first's result."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    tab_a = client.post(url, data=quiz_form(quiz, 1, correct=False))
    tab_b = client.post(url, data=quiz_form(quiz, 1, correct=True))
    assert tab_a.headers["Location"] == tab_b.headers["Location"]
    attempt = db.session.scalar(select(QuizAttempt))
    assert count(QuizAttempt) == 1 and attempt.passed is False


def test_attempts_are_limited(client, demo, login):
    """After the maximum number of attempts no further attempt is graded."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    for n in range(1, quiz.max_attempts + 1):
        client.post(url, data=quiz_form(quiz, n, correct=False))
    extra = client.post(url, data=quiz_form(quiz, quiz.max_attempts + 1))
    assert extra.status_code == 302 and count(QuizAttempt) == quiz.max_attempts
    assert "used all your attempts" in client.get(url).get_data(as_text=True)


def test_unanswered_question_rerenders_with_errors(client, demo, login):
    """A quiz with a question left blank re-renders with errors and grades nothing."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    data = quiz_form(quiz, 1)
    data.pop(f"q_{quiz.questions[0].key}")
    response = client.post(f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}", data=data)
    assert response.status_code == 400
    assert "Choose an answer to this question." in response.get_data(as_text=True)
    assert count(QuizAttempt) == 0


def test_another_learners_attempt_is_404(client, demo, login):
    """A learner cannot open someone else's attempt by URL."""
    login("lcsw@example.org")
    quiz = quiz_for(1)
    location = client.post(
        f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 1)
    ).headers["Location"]
    client.post("/logout")
    login("lmhc@example.org")
    assert client.get(location).status_code == 404


def test_withdrawn_enrolment_is_read_only(client, demo, login):
    """A withdrawn learner can read but cannot change anything."""
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == demo.nurse_id))
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    login("nurse@example.org")
    reading = readings_for(1)[0]
    assert client.get(f"/learn/offerings/{demo.offering_id}/sessions/1").status_code == 200
    assert (
        client.post(f"/learn/offerings/{demo.offering_id}/readings/{reading.key}/complete").status_code == 403
    )
    quiz = quiz_for(1)
    assert (
        client.post(
            f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 1)
        ).status_code
        == 403
    )
    assert count(ReadingCompletion) == 0 and count(QuizAttempt) == 0


def test_transcript_and_calendar(client, demo, login):
    """The transcript shows both ledgers with totals; the calendar has the 11 meetings."""
    login("lmhc@example.org")
    html = client.get(f"/learn/offerings/{demo.offering_id}/transcript").get_data(as_text=True)
    assert "CE contact hours" in html and "Independent learning hours — not eligible for CE" in html
    ics = client.get(f"/learn/offerings/{demo.offering_id}/calendar.ics")
    assert ics.mimetype == "text/calendar"
    body = ics.get_data(as_text=True)
    assert body.count("BEGIN:VEVENT") == 11 and "X-WR-TIMEZONE:America/New_York" in body


def test_profile_validates_license_number(client, demo, login):
    """A malformed license number is refused with a message; nothing is saved."""
    login("lcsw@example.org")
    response = client.post(
        "/learn/profile",
        data={
            "certificate_name": "Lena M. Social-Worker",
            "license_type": "LCSW",
            "license_number": "12-345",
            "license_state": "NY",
        },
    )
    assert response.status_code == 400
    db.session.expire_all()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("profile.%"))).all()
    assert events == []


def test_profile_change_is_audited(client, demo, login, make_user):
    """A profile change is an audit event with before and after."""
    login("lcsw@example.org")
    response = client.post(
        "/learn/profile",
        data={
            "certificate_name": "Lena Maria Social-Worker",
            "discipline": "Social work",
            "license_type": "LCSW",
            "license_number": "012345",
            "license_state": "ny",
        },
    )
    assert response.status_code == 302
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "profile.update"))
    assert event.before["certificate_name"] == "Lena M. Social-Worker"
    assert (
        event.after["certificate_name"] == "Lena Maria Social-Worker" and event.after["license_state"] == "NY"
    )


def test_learner_only_sees_their_own_offerings(client, demo, login, make_user):
    """A learner enrolled elsewhere cannot open this offering; a staff member without LEARN gets 403."""
    make_user(Role.LEARNER, email="elsewhere@example.org")
    login("elsewhere@example.org")
    assert client.get(f"/learn/offerings/{demo.offering_id}/transcript").status_code == 404
    assert client.get(f"/learn/offerings/{demo.offering_id}/calendar.ics").status_code == 404


def test_dashboard_offers_check_in_while_it_is_open(client, demo, login):
    """While an instructor has check-in open, the learner's dashboard links straight to it."""
    from imh_course.database import begin_write
    from imh_course.models import Meeting, Offering, User
    from imh_course.models.audit_chain import Actor
    from imh_course.models.types import utcnow
    from imh_course.operations.checkin import open_checkin
    from imh_course.operations.demo import make_next_meeting_live

    login("lcsw@example.org")
    url = f"/learn/offerings/{demo.offering_id}"
    assert "Check in now" not in client.get(url).get_data(as_text=True)
    begin_write()
    meeting = make_next_meeting_live(db.session.get(Offering, demo.offering_id), utcnow())
    instructor = db.session.get(User, demo.instructor_id)
    open_checkin(Actor(instructor, "instructor"), db.session.get(Meeting, meeting.id))
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert "Check in now" in html and f"/learn/offerings/{demo.offering_id}/check-in" in html
