"""xAPI against a real LRS (Ralph on loopback): a learner's term arrives once, whatever happens on the way."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import XapiStatement, XapiStatus
from imh_course.models.types import utcnow
from imh_course.rules.xapi import Outcome
from imh_course.xapi import statements as build
from imh_course.xapi.lrs import Answer, LrsClient
from imh_course.xapi.queue import deliver_due, enqueue
from tests.integration.ralph_lrs import LRS_KEY, LRS_SECRET, RalphServer, ralph_executable, write_auth_file
from tests.integration.xapi_helpers import BASE_URL, queued, run_demo_story, xapi_config


@pytest.fixture(scope="session")
def ralph_auth(tmp_path_factory):
    ralph = ralph_executable()
    return ralph, write_auth_file(ralph, tmp_path_factory.mktemp("ralph-auth"))


@pytest.fixture(scope="module")
def lrs_server(ralph_auth, tmp_path_factory):
    ralph, auth_file = ralph_auth
    server = RalphServer(ralph, auth_file, tmp_path_factory.mktemp("lrs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def lrs(lrs_server):
    """The module's LRS, running and empty (its statements file removed between tests)."""
    if lrs_server.process is None:
        lrs_server.start()
    lrs_server.clear()
    assert lrs_server.statements() == []
    return lrs_server


@pytest.fixture
def app_config(lrs):
    return xapi_config(lrs.endpoint, key=LRS_KEY, secret=LRS_SECRET)


@pytest.fixture
def term(demo, runner):
    run_demo_story(runner)
    return demo


def _queue(count: int) -> None:
    """``count`` statements (readings completed by made-up learners), committed: a quick batch."""
    site = build.Site(BASE_URL, "imh", "Infant Mental Health", 1, "Spring 2027")
    for n in range(count):
        learner = build.Learner(email=f"learner{n}@example.org")
        key = f"test-reading:{n}"
        statement = build.completed_reading(
            site, learner, key=key, reading_key=f"r{n}", title=f"Reading {n}", minutes=15, when=utcnow()
        )
        enqueue(statement, key, None)
    db.session.commit()


def _queued_ids() -> list[str]:
    return [row.statement_id for row in queued()]


def _assert_lrs_holds_exactly_the_queue(lrs: RalphServer) -> None:
    db.session.rollback()  # read what the workers committed, not an older snapshot
    expected = _queued_ids()
    stored = [s["id"] for s in lrs.statements()]
    assert len(stored) == len(set(stored)), "a statement is stored twice"
    assert sorted(stored) == sorted(expected)
    assert lrs.stored_lines() == len(expected)
    statuses = Counter(db.session.scalars(select(XapiStatement.status)))
    assert statuses == {XapiStatus.SENT: len(expected)}


class StopsAfter:
    """A client that stops the LRS after ``count`` statements (the LRS goes down mid-batch)."""

    def __init__(self, inner: LrsClient, lrs: RalphServer, count: int) -> None:
        self.inner, self.lrs, self.count = inner, lrs, count

    def put(self, statement_id: str, content: str) -> Answer:
        if self.count == 0:
            self.lrs.stop()
        self.count -= 1
        return self.inner.put(statement_id, content)


class LosesAnswers:
    """The LRS stores each statement but the answer never comes back (a cut connection)."""

    def __init__(self, inner: LrsClient, count: int) -> None:
        self.inner, self.count = inner, count

    def put(self, statement_id: str, content: str) -> Answer:
        answer = self.inner.put(statement_id, content)
        if self.count > 0 and answer.outcome is Outcome.STORED:
            self.count -= 1
            return Answer(Outcome.RETRY, None, "LRS unreachable: connection reset")
        return answer


def test_a_learners_term_arrives_in_the_lrs_exactly_once(app, term, lrs):
    """Attendance, readings, exercises, quizzes and the certificate: each statement once, as queued."""
    assert len(queued()) > 100
    report = deliver_due()
    assert report.sent == len(queued()) and report.retrying == report.failed == 0
    assert deliver_due().attempted == 0  # nothing left: a second run sends nothing
    _assert_lrs_holds_exactly_the_queue(lrs)
    verbs = Counter(s["verb"]["id"].rsplit("/", 1)[-1] for s in lrs.statements())
    assert {"attended", "completed", "submit", "passed", "earned"} <= set(verbs)
    attended = next(s for s in lrs.statements() if s["verb"]["id"].endswith("/attended"))
    extensions = attended["result"]["extensions"]
    assert any(k.endswith("/credited-minutes") for k in extensions)


def test_lrs_stopped_mid_batch_then_restarted_gets_the_rest_later_and_none_twice(app, lrs):
    _queue(20)
    client = LrsClient.from_config(app.config)
    first = deliver_due(StopsAfter(client, lrs, 3))  # batches of 7: down after the 3rd statement
    assert first.sent == 3 and first.retrying == 4 + 7  # the rest of the batch, then one more batch
    waiting = db.session.scalars(select(XapiStatement).where(XapiStatement.status == XapiStatus.QUEUED)).all()
    assert len(waiting) == len(queued()) - 3
    assert deliver_due(client).attempted == 20 - 14  # still down: the rest wait too, nothing is lost
    lrs.start()
    assert deliver_due(client).attempted == 0  # not due before its back-off
    later = deliver_due(client, now=utcnow() + timedelta(hours=7))
    assert later.sent == len(queued()) - 3 and later.failed == 0
    _assert_lrs_holds_exactly_the_queue(lrs)


def test_a_statement_whose_answer_was_lost_is_resent_and_still_stored_once(app, lrs):
    """The LRS stored the first statement but its answer never came: resent later, stored once."""
    _queue(10)
    client = LrsClient.from_config(app.config)
    report = deliver_due(LosesAnswers(client, 1))
    assert report.sent == 0 and report.retrying == 7  # looks down: the batch waits
    assert len(lrs.statements()) == 1
    again = deliver_due(client, now=utcnow() + timedelta(minutes=2))
    assert again.sent == 10  # the LRS answers 204 to the repeat: it already holds that very statement
    _assert_lrs_holds_exactly_the_queue(lrs)


def test_two_workers_at_once_store_each_statement_once(app, lrs):
    _queue(40)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with app.app_context():
                deliver_due()
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    db.session.expire_all()
    _assert_lrs_holds_exactly_the_queue(lrs)


def test_a_refused_key_waits_and_delivers_once_the_secret_is_fixed(app, lrs):
    _queue(10)
    wrong = LrsClient(lrs.endpoint, LRS_KEY, "not-the-secret")
    report = deliver_due(wrong)
    assert report.sent == 0 and report.retrying == 7
    [reason] = set(db.session.scalars(select(XapiStatement.last_error).where(XapiStatement.attempts == 1)))
    assert reason.startswith("LRS answered 401")
    deliver_due(now=utcnow() + timedelta(hours=7))
    _assert_lrs_holds_exactly_the_queue(lrs)


def test_a_different_statement_under_a_taken_id_is_refused_and_kept(app, lrs):
    _queue(5)
    assert deliver_due().failed == 0
    row = queued()[0]
    row.content = row.content.replace('"completion":true', '"completion":false', 1)
    row.status = XapiStatus.QUEUED
    db.session.commit()
    assert deliver_due().failed == 1
    db.session.refresh(row)
    assert row.status is XapiStatus.FAILED and row.last_error.startswith("LRS answered 409")


def test_cli_run_once_sends_and_exits(app, runner, lrs):
    _queue(5)
    result = runner.invoke(args=["imh", "xapi", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert f"{len(queued())} sent" in result.output
    _assert_lrs_holds_exactly_the_queue(lrs)
