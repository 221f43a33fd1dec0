"""Database faults: a friendly 503, nothing half-written, no transaction left open."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from imh_course.extensions import db
from imh_course.models import User
from imh_course.models.accounts import LearnerProfile
from imh_course.models.audit import AuditEvent
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD

FRIENDLY = "briefly unavailable"
NEW_PASSWORD = "seven quiet harbours at dawn"


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email="ada@example.org")


class Outage:
    """Makes every new database connection fail, as when the database server goes away."""

    def __init__(self) -> None:
        self.engine = db.engine
        self.active = False

    @staticmethod
    def _refuse(dialect, _record, _cargs, _cparams):  # noqa: ANN001, ANN205
        raise dialect.loaded_dbapi.OperationalError("could not connect: the database is unavailable")

    def start(self, *, mid_request: bool = False) -> None:
        if mid_request:
            db.session.connection().invalidate()  # the connection in use dies under the request
        else:
            db.session.remove()
        self.engine.dispose()  # drop pooled connections so the next checkout must connect
        event.listen(self.engine, "do_connect", self._refuse)
        self.active = True

    def end(self) -> None:
        if self.active:
            event.remove(self.engine, "do_connect", self._refuse)
            self.active = False


@pytest.fixture
def outage(app):
    switch = Outage()
    yield switch
    switch.end()
    db.session.remove()
    switch.engine.dispose()


def _counts() -> tuple[int, int]:
    db.session.expire_all()
    return db.session.scalar(select(func.count(AuditEvent.id))), db.session.scalar(
        select(func.count(User.id))
    )


def assert_no_open_transaction() -> None:
    assert not db.session().in_transaction()
    assert db.engine.pool.checkedout() == 0


def test_database_down_gives_a_friendly_503(client, ada, login, outage):
    """If the database is unreachable, a signed-in person gets the friendly 503 page, for reads and writes."""
    login("ada@example.org")
    outage.start()
    for response in (client.get("/learn"), client.post("/learn/profile", data={"certificate_name": "X"})):
        assert response.status_code == 503
        page = response.get_data(as_text=True)
        assert FRIENDLY in page and "Nothing you entered was half-saved" in page
        assert "Content-Security-Policy" in response.headers


def test_site_recovers_when_the_database_returns(client, ada, login, outage):
    """Once the database is back the same session works again; nothing needs a restart."""
    login("ada@example.org")
    outage.start()
    assert client.get("/learn").status_code == 503
    outage.end()
    assert client.get("/learn").status_code == 200


def test_failure_inside_the_password_change_writes_nothing(app, client, ada, login, monkeypatch):
    """If the database fails after the new password was written but before commit, the old password stays."""
    import imh_course.views.account as account_views

    real_record_event = account_views.record_event

    def failing_record_event(*args, **kwargs):  # noqa: ANN202
        real_record_event(*args, **kwargs)  # the password hash and the audit row are flushed...
        raise OperationalError("INSERT INTO imh_audit_event", {}, Exception("disk I/O error"))  # ...then this

    login("ada@example.org")
    other_device = app.test_client()
    other_device.post("/login", data={"email": "ada@example.org", "password": TEST_PASSWORD})
    audit_before, _ = _counts()
    monkeypatch.setattr(account_views, "record_event", failing_record_event)
    response = client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 503 and FRIENDLY in response.get_data(as_text=True)
    assert_no_open_transaction()
    monkeypatch.undo()
    assert _counts()[0] == audit_before
    assert other_device.get("/learn").status_code == 200  # the session token did not rotate
    fresh = app.test_client()
    assert (
        fresh.post("/login", data={"email": "ada@example.org", "password": TEST_PASSWORD}).status_code == 302
    )


def _fail_flush_after_audit(monkeypatch, then: Callable[[], None] | None = None) -> None:
    """Make the flush that writes an audit row succeed in the transaction and then raise."""
    real_flush = FlaskSession.flush

    def flush(self, objects=None):  # noqa: ANN001, ANN202
        writes_audit = any(isinstance(obj, AuditEvent) for obj in self.new)
        real_flush(self, objects)
        if writes_audit:
            if then is not None:
                then()
            raise OperationalError(
                "INSERT INTO imh_audit_event", {}, Exception("server closed the connection")
            )

    monkeypatch.setattr(FlaskSession, "flush", flush)


def test_failure_inside_a_learner_operation_writes_nothing(client, ada, login, monkeypatch):
    """A profile save that fails mid-operation leaves the profile and the audit trail exactly as they were."""
    login("ada@example.org")
    audit_before, _ = _counts()
    _fail_flush_after_audit(monkeypatch)
    response = client.post(
        "/learn/profile", data={"certificate_name": "Augusta Ada King", "license_type": ""}
    )
    assert response.status_code == 503
    assert_no_open_transaction()
    monkeypatch.undo()
    assert _counts()[0] == audit_before
    assert db.session.get(LearnerProfile, ada.id).certificate_name != "Augusta Ada King"


def test_database_lost_mid_request_still_gives_the_friendly_page(client, ada, login, monkeypatch, outage):
    """If the connection dies in the middle of a write, the 503 page still renders and nothing is kept."""
    ada_id = ada.id
    login("ada@example.org")
    audit_before, _ = _counts()
    _fail_flush_after_audit(monkeypatch, then=lambda: outage.start(mid_request=True))
    response = client.post(
        "/learn/profile", data={"certificate_name": "Augusta Ada King", "license_type": ""}
    )
    assert response.status_code == 503 and FRIENDLY in response.get_data(as_text=True)
    monkeypatch.undo()
    outage.end()
    db.session.remove()
    assert _counts()[0] == audit_before
    assert db.session.get(LearnerProfile, ada_id).certificate_name != "Augusta Ada King"


def test_a_failed_write_leaves_no_lock_behind(app, client, ada, login, monkeypatch, database_url):
    """After a failed write another writer can start at once: no transaction or SQLite write lock lingers."""
    login("ada@example.org")
    _fail_flush_after_audit(monkeypatch)
    assert (
        client.post("/learn/profile", data={"certificate_name": "Someone", "license_type": ""}).status_code
        == 503
    )
    monkeypatch.undo()
    assert_no_open_transaction()
    if database_url.startswith("sqlite:///"):
        import sqlite3

        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # raises 'database is locked' if a writer is still open
            other.execute("ROLLBACK")
        finally:
            other.close()
    assert (
        client.post("/learn/profile", data={"certificate_name": "Ada L.", "license_type": ""}).status_code
        == 302
    )


def test_an_oversized_request_gets_a_friendly_413(client):
    """A request body over MAX_CONTENT_LENGTH (2 MiB) is refused with the friendly 413 page, not a crash."""
    response = client.post("/account/forgot", data={"email": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "That upload is too large" in response.get_data(as_text=True)


def _post_in_own_context(client, url: str, data: dict[str, str]) -> dict[str, object]:  # noqa: ANN001
    """POST from a new thread, so Flask pushes and tears down an app context for the request as
    the WSGI server does (the test's own app context would otherwise keep the session open).
    Returns ``{"response": ...}`` or ``{"error": ...}`` (what a WSGI server answers with an empty 500)."""
    import threading

    db.session.remove()  # end the test context's transaction (SQLite: it may hold the write lock)
    outcome: dict[str, object] = {}

    def post() -> None:
        try:
            outcome["response"] = client.post(url, data=data)
        except Exception as error:  # noqa: BLE001
            outcome["error"] = error

    worker = threading.Thread(target=post)
    worker.start()
    worker.join(30)
    return outcome


PROFILE = {"certificate_name": "Augusta Ada King", "license_type": ""}


def test_an_error_closing_the_session_after_a_commit_is_logged_not_a_500(
    app, client, ada, login, monkeypatch, caplog
):
    """Issue 14 item 6: the save committed, then closing the session failed (a PostgreSQL restart).

    The learner gets the normal redirect, the change is kept and the error is logged as a warning.
    """
    import threading

    login("ada@example.org")
    real_close = FlaskSession.close
    broken: list[bool] = []

    def close(self):  # noqa: ANN001, ANN202
        real_close(self)
        if threading.current_thread() is not threading.main_thread():
            broken.append(True)
            raise OperationalError("ROLLBACK", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(FlaskSession, "close", close)
    with caplog.at_level("WARNING", logger="imh_course.database"):
        outcome = _post_in_own_context(client, "/learn/profile", PROFILE)
    monkeypatch.undo()
    assert broken, "the fault was not injected"
    assert "error" not in outcome, f"the committed save failed: {outcome.get('error')!r}"
    assert outcome["response"].status_code == 302
    db.session.expire_all()
    assert db.session.get(LearnerProfile, ada.id).certificate_name == "Augusta Ada King"
    assert any(
        r.levelname == "WARNING" and r.exc_info and "closing the database session" in r.getMessage()
        for r in caplog.records
    )


def _database_down_after_commit(monkeypatch) -> list[bool]:  # noqa: ANN001
    """From the request's first successful commit on, every statement fails as if the server went away."""
    import threading

    down: list[bool] = []
    real_commit = FlaskSession.commit

    def commit(self):  # noqa: ANN001, ANN202
        real_commit(self)
        if threading.current_thread() is not threading.main_thread():
            down.append(True)

    def refuse(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ANN202
        if down and threading.current_thread() is not threading.main_thread():
            gone = Exception("terminating connection due to administrator command")
            raise OperationalError(statement, {}, gone)

    monkeypatch.setattr(FlaskSession, "commit", commit)
    engine = db.engine
    event.listen(engine, "before_cursor_execute", refuse)
    monkeypatch.setattr(
        _database_down_after_commit,
        "undo",
        lambda: event.remove(engine, "before_cursor_execute", refuse),
        raising=False,
    )
    return down


def test_the_database_going_away_right_after_a_commit_still_answers_the_saved_request(
    app, client, ada, login, monkeypatch
):
    """Issue 14 item 6, the other half: the save committed, then PostgreSQL restarted before the
    response was finished. The response's headers and pages must not need the database again (the
    signed-in user was expired by the commit): the learner gets the normal redirect, not an empty 500,
    and the change is kept."""
    login("ada@example.org")
    down = _database_down_after_commit(monkeypatch)
    try:
        outcome = _post_in_own_context(client, "/learn/profile", PROFILE)
    finally:
        _database_down_after_commit.undo()
        monkeypatch.undo()
    assert down, "the fault was not injected"
    assert "error" not in outcome, f"the saved request got an empty 500: {outcome.get('error')!r}"
    response = outcome["response"]
    assert response.status_code == 302
    assert response.headers["Cache-Control"] == "no-store"  # unknown who is signed in: never cached
    db.session.expire_all()
    assert db.session.get(LearnerProfile, ada.id).certificate_name == "Augusta Ada King"


def test_the_error_page_renders_while_the_database_is_away(app, client, ada, login, monkeypatch):
    """A request that fails because the database went away mid-request gets the 503 page in the
    site's layout, drawn as for a visitor (the navigation cannot ask who is signed in)."""
    login("ada@example.org")
    down = _database_down_after_commit(monkeypatch)
    down.append(True)  # down from the first statement of the request
    try:
        outcome = _post_in_own_context(client, "/learn/profile", PROFILE)
    finally:
        _database_down_after_commit.undo()
        monkeypatch.undo()
    assert "error" not in outcome, f"answered with an empty 500: {outcome.get('error')!r}"
    response = outcome["response"]
    assert response.status_code == 503
    assert "briefly unavailable" in response.get_data(as_text=True)


def test_an_error_while_committing_still_gives_the_friendly_page(app, client, ada, login, monkeypatch):
    """Only errors after the commit are forgiven: a commit that fails is a 503 and keeps nothing."""
    import threading

    login("ada@example.org")
    real_commit = FlaskSession.commit

    def commit(self):  # noqa: ANN001, ANN202
        if threading.current_thread() is not threading.main_thread():
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))
        real_commit(self)

    monkeypatch.setattr(FlaskSession, "commit", commit)
    outcome = _post_in_own_context(client, "/learn/profile", PROFILE)
    monkeypatch.undo()
    assert "error" not in outcome, repr(outcome.get("error"))
    assert outcome["response"].status_code == 503
    assert FRIENDLY in outcome["response"].get_data(as_text=True)
    assert_no_open_transaction()
    db.session.expire_all()
    assert db.session.get(LearnerProfile, ada.id).certificate_name != "Augusta Ada King"
