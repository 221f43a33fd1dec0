"""Session limits (12 hours absolute, 30 minutes idle) and cookie attributes (ASVS 3.3.2, 3.4)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import g

from app import create_app
from imh_course.extensions import db
from imh_course.security import sessions
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email="ada@example.org")


def _age(client, key: str, seconds: int) -> None:
    """Move a stamp in the signed session cookie ``seconds`` into the past."""
    with client.session_transaction() as state:
        state[key] -= seconds


def test_sign_in_starts_both_clocks(client, ada, login):
    """Signing in records when I signed in and when I was last active."""
    before = sessions.now()
    login("ada@example.org")
    with client.session_transaction() as state:
        assert before <= state[sessions.SIGNED_IN_AT] <= sessions.now()
        assert before <= state[sessions.LAST_SEEN] <= sessions.now()


def test_sign_in_starts_a_fresh_session(client, ada, login):
    """Nothing planted in the session before sign-in survives it (no session fixation)."""
    client.get("/login")
    with client.session_transaction() as state:
        state["planted_by_someone_else"] = "x"
    login("ada@example.org")
    with client.session_transaction() as state:
        assert "planted_by_someone_else" not in state
        assert state["_user_id"].startswith(f"{ada.id}:")


def test_idle_for_31_minutes_signs_me_out_with_a_message(client, ada, login):
    """After 30 minutes without activity I am signed out and told why when I come back."""
    login("ada@example.org")
    _age(client, sessions.LAST_SEEN, 31 * 60)
    response = client.get("/learn")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/learn")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "You were signed out after 30 minutes without activity" in page
    assert client.get("/learn").status_code == 302


def test_activity_keeps_me_signed_in(client, ada, login):
    """Each visit within 30 minutes resets the idle clock."""
    login("ada@example.org")
    _age(client, sessions.LAST_SEEN, 29 * 60)
    assert client.get("/learn").status_code == 200
    with client.session_transaction() as state:
        assert sessions.now() - state[sessions.LAST_SEEN] < 5
    _age(client, sessions.LAST_SEEN, 29 * 60)
    assert client.get("/learn").status_code == 200


def test_twelve_hours_after_sign_in_i_must_sign_in_again(client, ada, login):
    """However active I am, 12 hours after signing in the session ends."""
    login("ada@example.org")
    _age(client, sessions.SIGNED_IN_AT, 12 * 3600 + 1)
    response = client.get("/learn")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "more than 12 hours ago" in client.get("/login").get_data(as_text=True)


def test_a_public_page_stays_open_after_expiry(client, ada, login):
    """An expired session on a public page just shows the page, signed out, with the message."""
    login("ada@example.org")
    _age(client, sessions.LAST_SEEN, 31 * 60)
    page = client.get("/").get_data(as_text=True)
    assert "without activity" in page and 'href="/login"' in page


def test_a_form_sent_after_expiry_changes_nothing(client, ada, login):
    """A form submitted after the idle timeout is not applied; I am sent to sign in."""
    login("ada@example.org")
    _age(client, sessions.LAST_SEEN, 31 * 60)
    response = client.post("/learn/profile", data={"certificate_name": "Someone Else"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    db.session.expire_all()
    assert ada.profile.certificate_name != "Someone Else"


def test_idle_expiry_of_one_device_leaves_the_others_signed_in(app, client, ada, login):
    """Timing out on one device does not sign me out elsewhere (only sign-out or a password change does)."""
    login("ada@example.org")
    other = app.test_client()
    other.post("/login", data={"email": "ada@example.org", "password": TEST_PASSWORD})
    _age(client, sessions.LAST_SEEN, 31 * 60)
    assert client.get("/learn").status_code == 302
    assert other.get("/learn").status_code == 200


class TestShorterIdleTimeout:
    @pytest.fixture
    def app_config(self):
        return {"IMH_IDLE_TIMEOUT_MINUTES": 5}

    def test_the_idle_timeout_is_a_setting(self, client, ada, login):
        """IMH_IDLE_TIMEOUT_MINUTES sets the idle limit, and the message says it."""
        login("ada@example.org")
        _age(client, sessions.LAST_SEEN, 6 * 60)
        client.get("/learn")
        assert "after 5 minutes without activity" in client.get("/login").get_data(as_text=True)


class TestIdleTimeoutOff:
    @pytest.fixture
    def app_config(self):
        return {"IMH_IDLE_TIMEOUT_MINUTES": 0}

    def test_zero_turns_the_idle_timeout_off(self, client, ada, login):
        """With IMH_IDLE_TIMEOUT_MINUTES=0 only the 12-hour limit applies."""
        login("ada@example.org")
        _age(client, sessions.LAST_SEEN, 11 * 3600)
        assert client.get("/learn").status_code == 200


@pytest.fixture
def production_app(database_url, monkeypatch):
    monkeypatch.setenv("IMH_SECRET_KEY", "s" * 48)
    app = create_app(
        {
            "IMH_ENV": "production",
            "IMH_BASE_URL": "https://training.example.org",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "IMH_ARGON2_TIME_COST": 1,
            "IMH_ARGON2_MEMORY_COST": 8,
            "IMH_ARGON2_PARALLELISM": 1,
        }
    )
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def test_production_session_cookie_attributes(production_app):
    """In production the session cookie is __Host-, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain."""
    from imh_course.models.audit_chain import Actor
    from imh_course.operations.accounts import create_user

    create_user(
        Actor.system(), email="ada@example.org", full_name="Ada", roles=[Role.LEARNER], password=TEST_PASSWORD
    )
    db.session.commit()
    assert production_app.permanent_session_lifetime == timedelta(hours=12)
    client = production_app.test_client()
    g.pop("csrf_token", None)
    page = client.get("/login", base_url="https://localhost").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},  # Flask-WTF checks it over HTTPS
        data={"email": "ada@example.org", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("__Host-imh_session=")]
    assert len(cookies) == 1
    attributes = {part.strip().split("=")[0].lower() for part in cookies[0].split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= attributes
    assert "domain" not in attributes
    assert "SameSite=Lax" in cookies[0] and "Path=/" in cookies[0]
    assert client.get("/learn", base_url="https://localhost").status_code == 200
