"""Statement building as plain values: what an LRS receives about a learner, and what it never does."""

from __future__ import annotations

import hashlib
import inspect
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

from imh_course.rules.xapi import Outcome, outcome_of, retry_delay
from imh_course.xapi import statements as s

SITE = s.Site(
    base_url="https://imh.example.org/",
    course_key="imh-theory-to-practice",
    course_title="Infant Mental Health: Theory to Practice",
    offering_id=3,
    offering_label="Infant Mental Health: Theory to Practice — Spring 2027",
)
ADA = s.Learner(email=" Ada.Lovelace@Example.org ")
WHEN = datetime(2027, 3, 4, 14, 0, tzinfo=UTC)


def _attended(**changes):
    facts = dict(
        key="attendance:9:event:41",
        meeting_id=12,
        title="Session 2: Reflective capacity",
        start=WHEN,
        attended_minutes=75,
        credited_minutes=75,
        ce_eligible=True,
    )
    facts.update(changes)
    return s.attended_meeting(SITE, ADA, **facts)


def test_the_address_is_sent_only_as_the_sha1_of_its_mailto():
    statement = _attended()
    expected = hashlib.sha1(b"mailto:ada.lovelace@example.org").hexdigest()  # noqa: S324
    assert statement["actor"] == {"objectType": "Agent", "mbox_sha1sum": expected}
    assert "lovelace@" not in json.dumps(statement).lower()


def test_an_lms_account_names_the_learner_instead_of_the_address():
    lti = s.Learner(email="ada@example.org", lms_account=("https://lms.example.edu", "u-381"))
    assert s.agent(lti) == {
        "objectType": "Agent",
        "account": {"homePage": "https://lms.example.edu", "name": "u-381"},
    }


def test_the_same_event_always_has_the_same_uuid_and_other_events_or_sites_another():
    first, again = _attended(), _attended()
    assert first == again
    assert uuid.UUID(first["id"]).version == 5
    assert _attended(key="attendance:9:event:42")["id"] != first["id"]
    elsewhere = s.statement_id("https://other.example.org", "attendance:9:event:41")
    assert elsewhere != first["id"]
    assert s.statement_id("https://imh.example.org", "k") == s.statement_id("https://imh.example.org/", "k")


def test_attendance_carries_duration_and_credited_minutes_as_result_extensions():
    statement = _attended(attended_minutes=80, credited_minutes=75)
    assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    result = statement["result"]
    assert result["duration"] == "PT80M"
    ext = "https://imh.example.org/xapi/extensions/"
    assert result["extensions"][ext + "attended-minutes"] == 80
    assert result["extensions"][ext + "credited-minutes"] == 75
    assert statement["object"]["id"] == "https://imh.example.org/xapi/activities/meeting/12"
    assert statement["object"]["definition"]["type"] == "http://adlnet.gov/expapi/activities/meeting"


def test_activity_ids_live_under_the_base_url_and_name_offering_and_course():
    statement = _attended()
    context = statement["context"]["contextActivities"]
    ids = [statement["object"]["id"], context["parent"][0]["id"], context["grouping"][0]["id"]]
    assert all(i.startswith("https://imh.example.org/xapi/activities/") for i in ids)
    assert context["grouping"][0]["definition"]["type"] == "http://adlnet.gov/expapi/activities/course"


def test_an_exercise_statement_cannot_carry_the_learners_text():
    """The builder has no parameter for the text: there is no way to pass it in."""
    assert not {"body", "text", "response"} & set(inspect.signature(s.submitted_exercise).parameters)
    statement = s.submitted_exercise(
        SITE,
        ADA,
        key="exercise:3:7:s02-e1",
        exercise_key="s02-e1",
        title="My own ghosts",
        minutes=20,
        when=WHEN,
    )
    assert statement["verb"]["id"] == "http://activitystrea.ms/submit"
    assert set(statement["result"]) == {"completion", "duration"}
    assert set(statement) == {"id", "actor", "verb", "object", "context", "timestamp", "version", "result"}


def test_a_passed_attempt_is_passed_and_another_is_answered_with_the_score():
    passed = s.quiz_attempt(
        SITE,
        ADA,
        key="q:1",
        quiz_key="s01-q",
        title="Quiz 1",
        attempt_no=2,
        points=4,
        max_points=5,
        passed=True,
        when=WHEN,
    )
    failed = s.quiz_attempt(
        SITE,
        ADA,
        key="q:2",
        quiz_key="s01-q",
        title="Quiz 1",
        attempt_no=1,
        points=2,
        max_points=5,
        passed=False,
        when=WHEN,
    )
    assert (
        passed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/passed"
        and passed["result"]["success"] is True
    )
    assert (
        failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
        and failed["result"]["success"] is False
    )
    assert passed["result"]["score"] == {"raw": 4, "min": 0, "max": 5, "scaled": 0.8}


def test_timestamps_have_one_spelling_whatever_the_zone():
    eastern = timezone(timedelta(hours=-5))
    assert s.timestamp(datetime(2027, 3, 4, 9, 0, tzinfo=eastern)) == "2027-03-04T14:00:00.000Z"
    assert _attended()["timestamp"] == "2027-03-04T14:00:00.000Z"


def test_a_voiding_statement_refers_to_its_target():
    void = s.voiding(SITE, ADA, key="void:x", target_id="0f8fad5b-d9cb-469f-a165-70867728950e", when=WHEN)
    assert void["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert void["object"] == {"objectType": "StatementRef", "id": "0f8fad5b-d9cb-469f-a165-70867728950e"}


def test_lrs_answers_store_retry_or_refuse():
    assert outcome_of(204) is Outcome.STORED and outcome_of(200) is Outcome.STORED
    assert outcome_of(400) is Outcome.REFUSED and outcome_of(409) is Outcome.REFUSED
    for status in (None, 401, 403, 429, 500, 502, 503):
        assert outcome_of(status) is Outcome.RETRY


def test_retrying_backs_off_and_never_gives_up():
    delays = [retry_delay(n) for n in range(1, 30)]
    assert delays == sorted(delays) and delays[0] == timedelta(minutes=1)
    assert delays[-1] == timedelta(hours=6)
