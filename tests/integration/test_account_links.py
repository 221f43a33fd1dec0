"""Invitation and reset links: single use, expiring, and they end other sessions."""

from __future__ import annotations

from datetime import timedelta

from imh_course.extensions import db
from imh_course.models import TokenPurpose, User
from imh_course.operations.tokens import issue_token
from imh_course.security.roles import Role

NEW_PASSWORD = "a-brand-new-passphrase"


def test_invitation_link_sets_the_password_once(client, make_user):
    """An invited learner sets a password with the link; the link then stops working."""
    user = make_user(Role.LEARNER, email="invitee@example.org")
    raw = issue_token(user, TokenPurpose.INVITE)
    db.session.commit()
    url = f"/account/set-password/{raw}"
    assert client.get(url).status_code == 200
    response = client.post(url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert (
        client.post("/login", data={"email": "invitee@example.org", "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert client.get(url).status_code == 404


def test_expired_link_is_refused(client, make_user):
    """A reset link past its lifetime shows a clear message and changes nothing."""
    user = make_user(Role.LEARNER, email="late@example.org")
    raw = issue_token(user, TokenPurpose.RESET, ttl=timedelta(seconds=-1))
    db.session.commit()
    response = client.post(
        f"/account/set-password/{raw}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)


def test_short_or_mismatched_password_rerenders(client, make_user):
    """Bad passwords re-render the form with errors and leave the link usable."""
    user = make_user(Role.LEARNER)
    raw = issue_token(user, TokenPurpose.RESET)
    db.session.commit()
    url = f"/account/set-password/{raw}"
    short = client.post(url, data={"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "at least 12" in short.get_data(as_text=True)
    mismatch = client.post(url, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert mismatch.status_code == 400 and "do not match" in mismatch.get_data(as_text=True)
    assert client.get(url).status_code == 200


def test_reset_ends_other_sessions(app, client, make_user, login):
    """Setting a password from a reset link signs the account out everywhere else."""
    user = make_user(Role.LEARNER, email="victim@example.org")
    login("victim@example.org")
    assert client.get("/learn").status_code == 200
    raw = issue_token(user, TokenPurpose.RESET)
    db.session.commit()
    other = app.test_client()
    other.post(f"/account/set-password/{raw}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert client.get("/learn").status_code == 302
    assert db.session.get(User, user.id).password_hash.startswith("$argon2id$")


def test_unknown_link(client):
    """A made-up link is a plain 'not valid' page."""
    assert client.get("/account/set-password/not-a-real-token").status_code == 404
