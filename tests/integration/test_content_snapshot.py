"""The learner pages' per-process snapshot of the published content is never stale.

Every way content changes (file sync, browser authoring of exercises and quizzes, publishing and
unpublishing) must show on the learner's very next request — in the process that made the change
and in another one sharing the database (two apps here, like two gunicorn workers).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app import create_app
from imh_course.content.loader import load_catalog
from imh_course.content.sync import sync_catalog
from imh_course.extensions import db
from imh_course.models import content_revision
from imh_course.models.curriculum import ContentOrigin, Exercise, Quiz, Reading
from imh_course.models.offerings import Offering
from imh_course.operations import authoring as ops
from imh_course.records import content_snapshot
from imh_course.records.ledgers import credit_policy, learner_ledger
from tests.conftest import REPO_ROOT, TEST_PASSWORD, _base_config
from tests.integration.authoring_helpers import (
    current_quiz_of,
    exercise_form,
    instructor_actor,
    question_form,
)
from tests.integration.learner_helpers import exercise_for, quiz_form, readings_for

LEARNER, INSTRUCTOR = "lcsw@example.org", "instructor@example.org"


@pytest.fixture
def other_app(app: Flask, database_url: str) -> Iterator[Flask]:  # noqa: ARG001
    """A second app on the same database: another worker process, with its own snapshot cache."""
    other = create_app(_base_config(database_url))
    yield other
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def signed_in(app: Flask, email: str) -> FlaskClient:
    # Sign-in writes (last sign-in); the request runs in this test's app context, so end the test's
    # own read snapshot first, as a real request would start with a fresh session.
    db.session.rollback()
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": TEST_PASSWORD}).status_code == 302
    return client


@pytest.fixture
def learners(app: Flask, other_app: Flask, demo) -> list[FlaskClient]:  # noqa: ARG001
    """The same learner signed in on both workers."""
    return [signed_in(app, LEARNER), signed_in(other_app, LEARNER)]


def page(client: FlaskClient, demo, number: int | None = None) -> str:
    # Requests to ``app`` run in the test's app context and would share its session (and, on SQLite,
    # its read transaction): start from a fresh one, as a real request does.
    db.session.remove()
    url = f"/learn/offerings/{demo.offering_id}" + (f"/sessions/{number}" if number else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def on_both(learners: list[FlaskClient], demo, number: int | None = None) -> list[str]:
    return [page(client, demo, number) for client in learners]


def staff_url(demo, number: int) -> str:
    return f"/staff/offerings/{demo.offering_id}/sessions/{number}"


# --- every path that changes content --------------------------------------------------------------


def test_a_file_sync_shows_on_the_next_request_of_every_worker(app, other_app, learners, demo, tmp_path):
    """A reading retitled and re-estimated in the files: synced by another process, shown everywhere."""
    reading = readings_for(1)[0]
    assert all(reading.title in html for html in on_both(learners, demo, 1))  # both caches warm
    root = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "readings", root / "readings")
    shutil.copytree(REPO_ROOT / "quizzes", root / "quizzes")
    source = next((root / "readings").rglob(f"{reading.key}.md"))
    text = source.read_text(encoding="utf-8")
    text = re.sub(r'^title: ".*"$', 'title: "A Renamed Reading"', text, count=1, flags=re.M)
    text = re.sub(r"^estimated_minutes: \d+$", "estimated_minutes: 99", text, count=1, flags=re.M)
    source.write_text(text, encoding="utf-8")

    with other_app.app_context():
        report = sync_catalog(load_catalog(root))
        db.session.commit()
    assert report.versioned == {"reading": 1}
    for html in on_both(learners, demo, 1):
        assert "A Renamed Reading" in html and reading.title not in html
        assert "About 99 minutes" in html


def test_an_edited_exercise_shows_on_the_next_request_of_every_worker(other_app, learners, demo):
    exercise = exercise_for(3)
    assert all(exercise.title in html for html in on_both(learners, demo, 3))
    instructor = signed_in(other_app, INSTRUCTOR)
    response = instructor.post(
        staff_url(demo, 3) + f"/exercises/{exercise.key}/edit",
        data=exercise_form(title="A Retitled Exercise", base_version=exercise.version),
    )
    assert response.status_code == 302
    for html in on_both(learners, demo, 3):
        assert "A Retitled Exercise" in html and exercise.title not in html


def test_a_new_quiz_question_shows_on_the_next_request_of_every_worker(other_app, learners, demo):
    quiz = current_quiz_of(3)
    count = len(quiz.questions)
    assert all(f"{count} questions" in html for html in on_both(learners, demo, 3))
    instructor = signed_in(other_app, INSTRUCTOR)
    response = instructor.post(
        staff_url(demo, 3) + "/quiz/questions/new", data=question_form(base_version=quiz.version)
    )
    assert response.status_code == 302
    for html in on_both(learners, demo, 3):
        assert f"{count + 1} questions" in html


def test_unpublishing_and_publishing_show_on_the_next_request_of_every_worker(other_app, learners, demo):
    exercise, quiz = exercise_for(3), current_quiz_of(3)
    assert all(exercise.title in html and quiz.title in html for html in on_both(learners, demo, 3))
    instructor = signed_in(other_app, INSTRUCTOR)
    assert instructor.post(staff_url(demo, 3) + f"/exercises/{exercise.key}/unpublish").status_code == 302
    assert instructor.post(staff_url(demo, 3) + "/quiz/unpublish").status_code == 302
    for html in on_both(learners, demo, 3):
        assert exercise.title not in html and quiz.title not in html
        assert "No exercises for this session." in html and "No quiz for this session." in html
    assert instructor.post(staff_url(demo, 3) + f"/exercises/{exercise.key}/publish").status_code == 302
    for html in on_both(learners, demo, 3):
        assert exercise.title in html and quiz.title not in html


def test_a_new_draft_exercise_changes_nothing_for_learners_until_published(other_app, learners, demo):
    """A draft renews the revision too (the snapshot is rebuilt) but stays invisible until published."""
    instructor = signed_in(other_app, INSTRUCTOR)
    instructor.post(staff_url(demo, 3) + "/exercises/new", data=exercise_form(title="Drafted Elsewhere"))
    assert all("Drafted Elsewhere" not in html for html in on_both(learners, demo, 3))
    db.session.rollback()  # read what the other worker committed
    key = db.session.scalar(
        select(Exercise.key).where(Exercise.origin == ContentOrigin.BROWSER).order_by(Exercise.id.desc())
    )
    assert instructor.post(staff_url(demo, 3) + f"/exercises/{key}/publish").status_code == 302
    assert all("Drafted Elsewhere" in html for html in on_both(learners, demo, 3))


# --- what the cache may and may not keep ------------------------------------------------------------


def test_warm_requests_check_the_revision_and_build_nothing(app, learners, demo, monkeypatch):
    """Once built, the snapshot serves every request until the content changes; then it is rebuilt once."""
    client = learners[0]
    page(client, demo)
    builds: list[int] = []
    build = content_snapshot.build_snapshot

    def counting_build(course_id: int, revision: str):  # noqa: ANN202
        builds.append(course_id)
        return build(course_id, revision)

    monkeypatch.setattr(content_snapshot, "build_snapshot", counting_build)
    for number in (None, 1, 2, 11):
        page(client, demo, number)
    assert builds == []
    ops.set_published(instructor_actor(demo.instructor_id), current_quiz_of(2), False)
    db.session.commit()
    for number in (None, 2, 2):
        page(client, demo, number)
    assert len(builds) == 1


def test_a_rolled_back_change_is_never_served(app, learners, demo):
    """A snapshot built inside a transaction that is rolled back is keyed by a revision nobody will see."""
    client = learners[0]
    title = exercise_for(3).title
    assert title in page(client, demo, 3)
    ops.set_published(instructor_actor(demo.instructor_id), exercise_for(3), False)
    offering = db.session.get(Offering, demo.offering_id)
    inside = learner_ledger(offering, demo.lcsw_id, credit_policy(app.config))  # caches the uncommitted state
    assert not inside.sessions[2].exercises
    db.session.rollback()
    assert title in page(client, demo, 3)


def test_a_change_committed_while_a_snapshot_is_built_shows_on_the_next_request(
    app, other_app, learners, demo, monkeypatch
):
    """Another worker commits a change between this worker reading the revision and the content."""
    client = learners[0]
    quiz = current_quiz_of(4)
    content_snapshot.forget_snapshots()
    build = content_snapshot.build_snapshot

    def build_during_a_change(course_id: int, revision: str):  # noqa: ANN202
        monkeypatch.setattr(content_snapshot, "build_snapshot", build)  # only the first build
        with other_app.app_context():
            ops.set_published(instructor_actor(demo.instructor_id), db.session.get(Quiz, quiz.id), False)
            db.session.commit()
        return build(course_id, revision)

    monkeypatch.setattr(content_snapshot, "build_snapshot", build_during_a_change)
    page(client, demo, 4)  # whichever state this request saw, it must not be kept
    html = page(client, demo, 4)
    assert quiz.title not in html and "No quiz for this session." in html


def test_work_on_an_older_version_counts_at_that_versions_estimate(app, client, demo, login):
    """A quiz passed on version 1 keeps counting at version 1's estimate after it is re-estimated."""
    login(LEARNER)
    quiz = current_quiz_of(2)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    assert client.post(url, data=quiz_form(quiz, 1)).status_code == 302
    offering = db.session.get(Offering, demo.offering_id)
    before = learner_ledger(offering, demo.lcsw_id, credit_policy(app.config))
    instructor = signed_in(app, INSTRUCTOR)
    settings = {
        "title": quiz.title,
        "estimated_minutes": str(quiz.estimated_minutes + 40),
        "pass_mark": str(quiz.pass_mark),
        "max_attempts": "",
        "base_version": str(quiz.version),
        "save": "Save",
    }
    assert instructor.post(staff_url(demo, 2) + "/quiz/settings", data=settings).status_code == 302
    db.session.rollback()
    after = learner_ledger(offering, demo.lcsw_id, credit_policy(app.config))
    row = after.sessions[1]
    assert (
        row.quizzes[0][0].id != quiz.id and row.quizzes[0][0].estimated_minutes == quiz.estimated_minutes + 40
    )
    assert row.quizzes_passed == 1
    assert after.independent_minutes == before.independent_minutes
    assert after.independent_available_minutes == before.independent_available_minutes + 40
    assert after.ce_minutes == before.ce_minutes


def test_a_content_write_that_forgets_the_explicit_bump_still_shows(other_app, learners, demo, monkeypatch):
    """The before-flush safety net: content changed through the ORM by a code path that never calls
    ``bump_content_revision`` (a future one, say) still reaches every worker's next request."""
    on_both(learners, demo, 1)  # both workers have a warm snapshot
    monkeypatch.setattr(content_revision, "bump_content_revision", lambda **_kw: None)
    with other_app.app_context():
        reading = db.session.scalar(
            select(Reading).where(Reading.key == readings_for(1)[0].key, Reading.is_current.is_(True))
        )
        reading.title = "A title changed without an explicit bump"
        db.session.commit()
    for html in on_both(learners, demo, 1):
        assert "A title changed without an explicit bump" in html
