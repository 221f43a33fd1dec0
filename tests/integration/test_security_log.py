"""Security events reach the `imh_course.security` log, without secrets or injectable text (ASVS 7)."""

from __future__ import annotations

import logging
import re

import pytest
from flask import g

from imh_course.security import log as security_log
from imh_course.security import sessions
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD

NEW_PASSWORD = "seven quiet harbours at dawn"
EMAIL = "ada.lovelace@example.org"


@pytest.fixture
def security_records(caplog):
    caplog.set_level(logging.INFO, logger="imh_course.security")

    def records(event: str | None = None) -> list[logging.LogRecord]:
        found = [r for r in caplog.records if r.name == "imh_course.security"]
        return [r for r in found if event is None or getattr(r, "security_event", None) == event]

    return records


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email=EMAIL)


def _text(records: list[logging.LogRecord]) -> str:
    return "\n".join(r.getMessage() for r in records)


def assert_no_secrets(records, *secrets: str) -> None:
    text = _text(records)
    for secret in (TEST_PASSWORD, NEW_PASSWORD, EMAIL, *secrets):
        assert secret not in text


def test_sign_in_failure_success_and_sign_out_are_logged(client, ada, login, security_records):
    """Failed and successful sign-ins and sign-outs are logged with a masked email, never the password."""
    client.post("/login", data={"email": EMAIL, "password": "wrong-password-123"})
    login(EMAIL)
    client.post("/logout")
    [failure] = security_records("signin.failure")
    assert failure.levelno == logging.WARNING
    assert "account=a***@example.org" in failure.getMessage()
    assert re.search(r"ref=[0-9a-f]{12}", failure.getMessage())
    assert f"user={ada.id}" in security_records("signin.success")[0].getMessage()
    assert f"user={ada.id}" in security_records("signout")[0].getMessage()
    assert_no_secrets(security_records(), "wrong-password-123")


def test_the_same_account_gets_the_same_reference(client, ada, security_records):
    """Repeated failures on one account share a reference, so an attack is visible without the address."""
    client.post("/login", data={"email": EMAIL, "password": "wrong-password-123"})
    client.post("/login", data={"email": EMAIL.upper(), "password": "wrong-password-456"})
    refs = {r.security_fields["ref"] for r in security_records("signin.failure")}
    assert len(refs) == 1


def test_password_change_and_reset_are_logged_without_secrets(client, runner, ada, login, security_records):
    """Password changes, reset requests and issued reset links are logged; no password or link token is."""
    login(EMAIL)
    client.post(
        "/account/password",
        data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    client.post("/account/forgot", data={"email": EMAIL})
    result = runner.invoke(args=["imh", "user", "reset-link", "--email", EMAIL])
    token = result.stdout.strip().rsplit("/", 1)[1]
    assert "how=self-service" in security_records("password.change")[0].getMessage()
    assert "account_exists=yes" in security_records("password.reset_request")[0].getMessage()
    assert security_records("password.reset_link_issued")
    client.post(
        f"/account/set-password/{token}", data={"password": "a" + NEW_PASSWORD, "confirm": "a" + NEW_PASSWORD}
    )
    assert "how=reset-link" in security_records("password.change")[-1].getMessage()
    assert_no_secrets(security_records(), token, "a" + NEW_PASSWORD)


def test_wrong_current_password_is_logged(client, ada, login, security_records):
    """A failed password change (wrong current password) is logged as a warning."""
    login(EMAIL)
    client.post(
        "/account/password",
        data={
            "current_password": "guessing-the-password",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    [record] = security_records("password.change_failure")
    assert record.levelno == logging.WARNING
    assert_no_secrets(security_records(), "guessing-the-password")


def test_access_denied_is_logged(client, make_user, login, security_records):
    """A 403 from a permission check is logged with the user, method and endpoint."""
    user = make_user(Role.LEARNER, email="learner@example.org")
    login("learner@example.org")
    assert client.get("/staff").status_code == 403
    [record] = security_records("access.denied")
    message = record.getMessage()
    assert f"user={user.id}" in message and "endpoint=imh.staff_home" in message and "method=GET" in message


def test_session_expiry_is_logged(client, ada, login, security_records):
    """An idle timeout is logged with the user and the reason."""
    login(EMAIL)
    with client.session_transaction() as state:
        state[sessions.LAST_SEEN] -= 31 * 60
    client.get("/learn")
    [record] = security_records("session.expired")
    assert f"user={ada.id}" in record.getMessage() and "why=idle" in record.getMessage()


class TestWithCsrfAndLimits:
    @pytest.fixture
    def app_config(self):
        return {"WTF_CSRF_ENABLED": True, "RATELIMIT_ENABLED": True}

    def test_csrf_failures_are_logged_and_still_friendly(self, client, ada, security_records):
        """A CSRF refusal is logged and the person still sees the friendly 'form expired' page."""
        response = client.post("/login", data={"email": EMAIL, "password": TEST_PASSWORD})
        assert response.status_code == 400 and "Your form expired" in response.get_data(as_text=True)
        [record] = security_records("csrf.failure")
        assert "route=/login" in record.getMessage()
        assert_no_secrets(security_records())

    def test_rate_limit_hits_are_logged_without_log_injection(self, client, ada, security_records):
        """A rate-limit hit is logged; CR/LF in what the attacker typed cannot forge extra log lines."""
        g.pop("csrf_token", None)
        forged = "x@example.org\r\nsecurity event=signin.success user=1"
        for _ in range(11):
            response = client.post("/login", data={"email": forged, "password": "whatever-they-try"})
        assert response.status_code == 429
        [record] = security_records("ratelimit.hit")
        message = record.getMessage()
        assert "\n" not in message and "\r" not in message
        assert "kind=signin-" in message
        assert security_records("signin.success") == []


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\u2028b", "a\x1b[31mb", "a\x00b"])
def test_clean_strips_line_breaks_and_control_characters(value):
    """Every logged value is a single line without control characters."""
    assert security_log.clean(value).startswith("a?")
    assert not re.search(r"[\x00-\x1f\x7f\u2028\u2029]", security_log.clean(value))


def test_long_values_are_cut():
    """Huge inputs cannot flood the log."""
    assert len(security_log.clean("x" * 10_000)) <= security_log.MAX_VALUE_LENGTH + 1


@pytest.mark.parametrize(
    ("email", "masked"),
    [("ada.lovelace@example.org", "a***@example.org"), ("", "(none)"), ("no-at-sign", "n***")],
)
def test_mask_email(email, masked):
    """Emails are masked to their first letter and domain."""
    assert security_log.mask_email(email) == masked
