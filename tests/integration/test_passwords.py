"""Changing a password, asking for help with a forgotten one, and reset links from the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import AccountToken, OutboxMessage, TokenPurpose, User
from imh_course.models.audit import AuditEvent
from imh_course.models.types import utcnow
from imh_course.operations.tokens import issue_token
from imh_course.security.roles import Role
from imh_course.views.account import FORGOT_MESSAGE
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "seven quiet harbours at dawn"


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email="ada.lovelace@example.org")


def change(client, current=TEST_PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post(
        "/account/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_change_password_keeps_this_session_and_ends_the_others(app, client, ada, login):
    """After a password change I stay signed in here, other devices are signed out, the new password works."""
    login("ada.lovelace@example.org")
    other_device = app.test_client()
    assert (
        other_device.post(
            "/login", data={"email": "ada.lovelace@example.org", "password": TEST_PASSWORD}
        ).status_code
        == 302
    )
    assert client.get("/account/password").status_code == 200

    response = change(client)
    assert response.status_code == 302
    assert client.get("/learn").status_code == 200
    assert other_device.get("/learn").status_code == 302

    fresh = app.test_client()
    assert fresh.post("/login", data={"email": ada.email, "password": TEST_PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": ada.email, "password": NEW_PASSWORD}).status_code == 302


def test_change_is_audited_without_the_password(client, ada, login):
    """The change leaves an audit event that names the account and never holds the password or its hash."""
    login("ada.lovelace@example.org")
    change(client)
    [event] = _events("account.password_change")
    assert event.actor_id == ada.id and event.entity_id == str(ada.id)
    stored = repr((event.before, event.after, event.reason))
    assert NEW_PASSWORD not in stored and TEST_PASSWORD not in stored and "argon2" not in stored


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "not-my-password-at-all"}, "not your current password"),
        ({"new": "Password2024!"}, "common passwords"),
        ({"new": "ada.lovelace forever and ever"}, "email"),
        ({"new": "too-short"}, "at least 12"),
        ({"confirm": "something else entirely"}, "do not match"),
        ({"new": TEST_PASSWORD}, "different from the current one"),
    ],
)
def test_refused_changes_explain_why_and_change_nothing(client, ada, login, fields, message):
    """A refused change shows the reason; the old password stays and nothing is audited."""
    login("ada.lovelace@example.org")
    before = db.session.get(User, ada.id).password_hash
    response = change(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, ada.id).password_hash == before
    assert _events("account.password_change") == []
    assert client.get("/learn").status_code == 200


def test_change_password_needs_a_sign_in(client):
    """Signed-out visitors are sent to sign in."""
    response = client.get("/account/password")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_forgot_password_says_the_same_for_every_address(client, ada):
    """The page answers identically for known and unknown addresses; only the known one is mailed a link."""
    assert client.get("/account/forgot").status_code == 200
    tokens_before = db.session.scalar(select(func.count(AccountToken.id)))
    known = client.post("/account/forgot", data={"email": "Ada.Lovelace@example.org"})
    unknown = client.post("/account/forgot", data={"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert FORGOT_MESSAGE in known.get_data(as_text=True)
    assert known.get_data(as_text=True) == unknown.get_data(as_text=True)
    assert db.session.scalar(select(func.count(AccountToken.id))) == tokens_before + 1  # the known one's
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == [ada.email]


def test_forgot_password_rejects_a_malformed_address(client):
    """A malformed address re-renders the form with an error, never a 500."""
    response = client.post("/account/forgot", data={"email": "not an email"})
    assert response.status_code == 400


def test_reset_link_refuses_a_common_password(client, ada):
    """Reset links apply the same rules: a common password is refused and the link stays usable."""
    raw = issue_token(ada, TokenPurpose.RESET)
    db.session.commit()
    url = f"/account/set-password/{raw}"
    response = client.post(url, data={"password": "iloveyou1234", "confirm": "iloveyou1234"})
    assert response.status_code == 400 and "common passwords" in response.get_data(as_text=True)
    assert client.get(url).status_code == 200


def test_cli_reset_link_prints_a_working_single_use_link(client, runner, ada):
    """`flask imh user reset-link` prints a single-use link, valid for 24 hours by default."""
    result = runner.invoke(args=["imh", "user", "reset-link", "--email", "ADA.Lovelace@example.org"])
    assert result.exit_code == 0, result.output
    link = result.stdout.strip()
    assert link.startswith("/account/set-password/")
    token = db.session.scalar(select(AccountToken).where(AccountToken.user_id == ada.id))
    assert timedelta(hours=23) < token.expires_dt - utcnow() <= timedelta(hours=24)
    assert client.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert client.get(link).status_code == 404
    [event] = _events("account.reset_link")
    assert link.rsplit("/", 1)[1] not in repr((event.before, event.after))


class TestAbsoluteLinks:
    @pytest.fixture
    def app_config(self):
        return {"IMH_BASE_URL": "https://imh.example.org/courses", "IMH_URL_PREFIX": "/imh"}

    def test_reset_link_uses_the_configured_site_address(self, runner, ada):
        """With IMH_BASE_URL set the printed link is absolute and includes the module's prefix."""
        result = runner.invoke(args=["imh", "user", "reset-link", "--email", ada.email, "--hours", "2"])
        assert result.exit_code == 0, result.output
        assert result.stdout.startswith("https://imh.example.org/courses/imh/account/set-password/")
        assert "valid for 2 hours" in result.stderr


def test_cli_reset_link_for_an_unknown_account_fails_clearly(runner):
    """An unknown email is an error with a clear message, and nothing is issued."""
    result = runner.invoke(args=["imh", "user", "reset-link", "--email", "nobody@example.org"])
    assert result.exit_code == 1
    assert "no active account" in result.output
    assert db.session.scalar(select(func.count(AccountToken.id))) == 0


def test_cli_create_user_refuses_a_common_password(runner):
    """Accounts created from the command line follow the same password rules."""
    result = runner.invoke(
        args=[
            "imh", "user", "create", "--email", "x@example.org", "--name", "X", "--role", "learner",
            "--password", "password1234",
        ]
    )  # fmt: skip
    assert result.exit_code == 1 and "common passwords" in result.output
