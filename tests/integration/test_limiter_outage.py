"""The rate-limit store (Redis) unreachable: every limited route keeps working on in-process limits.

The store is a Redis URL on a closed port, so every connection is refused at once. The routes are
the ones that answered 500 with ``redis.ConnectionError`` before, reached through the real views.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from app import create_app
from imh_course.extensions import db
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.integration.test_rate_limit import limited_config

CLOSED_PORT = "redis://127.0.0.1:1"
WRONG = "not-the-right-password"


@pytest.fixture
def app_config():
    # CSRF off (the testing default) so the posts below reach the limiters and views directly.
    return limited_config(RATELIMIT_STORAGE_URI=CLOSED_PORT, WTF_CSRF_ENABLED=False)


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email="ada@example.org")


def sign_in(client, email: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        "/login", data={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def outage_warnings(caplog) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.name == "imh_course.security"
        and r.levelno == logging.WARNING
        and "unreachable" in r.getMessage()
    ]


def test_every_limited_route_answers_without_redis(client, demo, login):
    """Check-in, certificate verification, forgot-password and password change answer normally."""
    login("lcsw@example.org")
    checkin = client.post(f"/learn/offerings/{demo.offering_id}/check-in", data={"code": "123456"})
    assert checkin.status_code == 400 and "Check-in is not open right now" in checkin.get_data(as_text=True)
    wrong_current = {
        "current_password": "not-my-password",
        "new_password": "seven quiet harbours",
        "confirm": "seven quiet harbours",
    }
    change = client.post("/account/password", data=wrong_current)
    assert change.status_code == 400 and "not your current password" in change.get_data(as_text=True)
    assert client.get("/verify/NOSUCHCERTIFICATE").status_code == 404
    forgot = client.post("/account/forgot", data={"email": "someone@example.org"})
    assert forgot.status_code == 200 and "same answer for every address" in forgot.get_data(as_text=True)


def test_route_limits_still_hold_in_process(client):
    """Without Redis the route limits count in this process: the sixth forgot-password post is 429."""
    for n in range(5):
        assert client.post("/account/forgot", data={"email": f"p{n}@example.org"}).status_code == 200
    assert client.post("/account/forgot", data={"email": "p9@example.org"}).status_code == 429


def test_sign_in_throttling_still_holds_without_redis(client, ada):
    """Fifteen wrong passwords with Redis down: after ten, sign-in is paused (429), the right one too."""
    statuses = [sign_in(client, "ada@example.org", WRONG).status_code for _ in range(15)]
    assert statuses == [200] * 10 + [429] * 5
    assert sign_in(client, "ada@example.org", TEST_PASSWORD).status_code == 429


def test_sign_in_works_and_the_outage_is_logged_once(app, ada, caplog):
    """People still sign in; the sign-in throttle warns once that it counts in-process, not per attempt."""
    caplog.set_level(logging.INFO, logger="imh_course.security")
    for _ in range(3):
        assert sign_in(app.test_client(), "ada@example.org", TEST_PASSWORD).status_code == 302
        assert sign_in(app.test_client(), "ada@example.org", WRONG).status_code == 200
    (warning,) = outage_warnings(caplog)
    assert "in-process" in warning.getMessage()
    assert not any(r.levelno >= logging.ERROR for r in caplog.records if r.name.startswith("imh_course"))


def test_healthz_reports_the_limiter_as_degraded(client):
    """/healthz stays 200 (the app works) and names the rate-limit store as degraded."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "limiter": "degraded"}


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A Redis URL whose server accepts connections and never answers (a hung or overloaded Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)  # the kernel completes the handshakes; nothing ever reads or replies
    yield f"redis://127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_a_hung_redis_does_not_hang_sign_in_or_healthz(database_url, hung_redis, make_user):
    """Redis that accepts but never answers: sign-in and /healthz answer within seconds, not never."""
    app = create_app(
        {
            "IMH_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            **limited_config(RATELIMIT_STORAGE_URI=hung_redis, WTF_CSRF_ENABLED=False),
        }
    )
    answers: dict[str, object] = {}

    def visit() -> None:
        with app.app_context():
            make_user(Role.LEARNER, email="ada@example.org")
            client = app.test_client()
            answers["sign_in"] = sign_in(client, "ada@example.org", TEST_PASSWORD).status_code
            answers["healthz"] = client.get("/healthz").get_json()["limiter"]
            db.session.remove()
            db.engine.dispose()

    worker = threading.Thread(target=visit, daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=20)
    assert not worker.is_alive(), "a request hung on the unresponsive Redis"
    assert answers == {"sign_in": 302, "healthz": "degraded"}
    assert time.monotonic() - started < 20
