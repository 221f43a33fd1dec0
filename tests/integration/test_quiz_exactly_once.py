"""Exactly-once quiz grading under racing requests, and attempts pinned to their quiz version."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from sqlalchemy import func, select

from imh_course.content.loader import load_catalog
from imh_course.content.sync import sync_catalog
from imh_course.extensions import db
from imh_course.models import Quiz, QuizAttempt
from tests.conftest import TEST_PASSWORD
from tests.integration.learner_helpers import quiz_for, quiz_form

REPO_ROOT = Path(__file__).resolve().parents[2]
THREADS = 20


def test_twenty_concurrent_submissions_grade_one_attempt(app, demo):
    """20 simultaneous submissions of the same attempt (double clicks, tabs, workers) make one row."""
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    data = quiz_form(quiz, 1)
    clients = []
    for _ in range(THREADS):
        c = app.test_client()
        assert (
            c.post("/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD}).status_code == 302
        )
        clients.append(c)
    db.session.remove()
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    locations: list[str] = []

    def submit(c) -> None:
        barrier.wait()
        response = c.post(url, data=data)
        statuses.append(response.status_code)
        locations.append(response.headers.get("Location", ""))

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [302] * THREADS
    assert len(set(locations)) == 1
    assert db.session.scalar(select(func.count()).select_from(QuizAttempt)) == 1


def test_attempt_stays_on_the_version_it_was_taken_on(app, client, demo, login, tmp_path):
    """After the quiz is edited, an earlier attempt keeps its version, questions and score."""
    login("lcsw@example.org")
    quiz = quiz_for(2)
    location = client.post(
        f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 1)
    ).headers["Location"]
    for name in ("readings", "quizzes"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    path = tmp_path / "quizzes/session-02.yaml"
    path.write_text(path.read_text().replace("pass_mark: 80", "pass_mark: 100"))
    sync_catalog(load_catalog(tmp_path))
    db.session.commit()
    versions = db.session.scalars(select(Quiz).where(Quiz.key == quiz.key).order_by(Quiz.version)).all()
    assert [v.version for v in versions] == [1, 2]
    attempt = db.session.scalar(select(QuizAttempt))
    assert attempt.quiz_id == versions[0].id and attempt.passed is True and attempt.percent == 100
    page = client.get(location).get_data(as_text=True)
    assert "Passed" in page and "(pass mark 80%)" in page
