"""Sign-in, sign-out and the session."""

from __future__ import annotations

import pytest

from imh_course.security.roles import Role
from imh_course.views.auth import GENERIC_FAILURE
from imh_course.views.helpers import is_safe_next
from tests.conftest import TEST_PASSWORD


def test_sign_in_lands_a_learner_on_their_learning(client, make_user):
    """A learner who signs in is sent to their learning page."""
    make_user(Role.LEARNER, email="ada@example.org")
    response = client.post("/login", data={"email": "ADA@example.org ", "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/learn"


@pytest.mark.parametrize(
    "email,password", [("ada@example.org", "wrong-password-123"), ("nobody@example.org", TEST_PASSWORD)]
)
def test_failed_sign_in_is_generic_and_creates_no_session(client, make_user, email, password):
    """Wrong password and unknown email get the same message, and no session is created."""
    make_user(Role.LEARNER, email="ada@example.org")
    response = client.post("/login", data={"email": email, "password": password})
    assert response.status_code == 200
    assert GENERIC_FAILURE in response.get_data(as_text=True)
    assert client.get("/learn").status_code == 302  # still anonymous -> sent to sign in


def test_missing_fields_rerender_with_errors(client):
    """A sign-in form with missing fields re-renders with its errors (400), never a 500."""
    response = client.post("/login", data={"email": ""})
    assert response.status_code == 400
    assert "Enter your password." in response.get_data(as_text=True)


def test_sign_out_invalidates_a_copied_cookie(app, make_user, login, client):
    """After sign-out, a copy of the old session cookie no longer signs anyone in."""
    make_user(Role.LEARNER, email="ada@example.org")
    login("ada@example.org")
    stolen = client.get_cookie("session").value
    assert client.get("/learn").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/learn")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_next_redirect_stays_on_this_site(client, make_user):
    """After sign-in, ?next= is followed only to a path on this site."""
    make_user(Role.LEARNER, email="ada@example.org")
    ok = client.post(
        "/login", data={"email": "ada@example.org", "password": TEST_PASSWORD, "next": "/learn?x=1"}
    )
    assert ok.headers["Location"] == "/learn?x=1"
    client.post("/logout")
    evil = client.post(
        "/login", data={"email": "ada@example.org", "password": TEST_PASSWORD, "next": "//evil.example/steal"}
    )
    assert evil.headers["Location"] == "/learn"


@pytest.mark.parametrize(
    "target,safe",
    [
        ("/learn", True),
        ("/learn?next=//x", True),
        ("//evil.example", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
        ("", False),
        (None, False),
        ("learn", False),
        ("/\tevil", False),
    ],
)
def test_is_safe_next(target, safe):
    """Only same-site absolute paths are accepted as redirect targets."""
    assert is_safe_next(target) is safe


def test_passwords_are_stored_as_argon2(make_user):
    """Passwords are stored as argon2id hashes, never in the clear."""
    user = make_user(Role.LEARNER)
    assert user.password_hash.startswith("$argon2id$")
    assert TEST_PASSWORD not in user.password_hash


class TestWithCsrf:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_sign_in_without_a_csrf_token_is_refused(self, client, make_user):
        """Every form is CSRF-protected: a token-less sign-in is refused with a friendly page."""
        make_user(Role.LEARNER, email="ada@example.org")
        response = client.post("/login", data={"email": "ada@example.org", "password": TEST_PASSWORD})
        assert response.status_code == 400
        assert "Your form expired" in response.get_data(as_text=True)

    def test_sign_out_without_a_csrf_token_is_refused(self, client):
        """Sign-out is a write and needs the token too."""
        assert client.post("/logout").status_code == 400
