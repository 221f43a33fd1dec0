"""Account administration from the browser (issue 15): the admin home, the searchable account
list, and each account task — create, edit, disable/enable, sign out everywhere, invitation and
reset links — audited, and never able to leave the site without an enabled admin.
"""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AuditEvent, User
from imh_course.models.audit_chain import Actor
from imh_course.models.outbox import OutboxMessage
from imh_course.operations.account_admin import AccountData, update_account
from imh_course.operations.accounts import AccountError
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD

ADMIN = "admin@example.org"
NEW_PASSWORD = "a-brand-new-passphrase"


@pytest.fixture
def admin(make_user, login) -> User:
    """A signed-in admin (the test client)."""
    user = make_user(Role.ADMIN, email=ADMIN, full_name="Ada Admin")
    login(ADMIN)
    return user


def events(action: str, user_id: int) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action, AuditEvent.entity_id == str(user_id))
        )
    )


def signed_in_client(app, email: str, password: str = TEST_PASSWORD) -> FlaskClient:  # noqa: ANN001
    other = app.test_client()
    assert other.post("/login", data={"email": email, "password": password}).status_code == 302
    return other


def shown_link(html: str) -> str:
    return re.search(r'<span class="invite-link">([^<]+)</span>', html).group(1)


def account_form(name: str, email: str, roles: list[str]) -> dict[str, object]:
    return {"full_name": name, "email": email, "roles": roles}


# --- home and navigation -----------------------------------------------------------
def test_an_admin_lands_on_the_admin_home_with_accounts_and_audit_trail(client, make_user):
    """Signing in as an admin opens the admin home, linked from the navigation, with the audit trail
    and the email outbox."""
    make_user(Role.ADMIN, email=ADMIN)
    response = client.post("/login", data={"email": ADMIN, "password": TEST_PASSWORD})
    assert response.headers["Location"].endswith("/admin")
    page = client.get("/admin").get_data(as_text=True)
    assert '<a href="/admin">Admin</a>' in page
    assert 'href="/admin/accounts"' in page and 'href="/staff/audit"' in page
    assert 'href="/staff/outbox"' in page and client.get("/staff/outbox").status_code == 200


def test_people_without_the_admin_role_see_no_admin_link(client, make_user, login):
    make_user(Role.COORDINATOR, email="coord@example.org")
    login("coord@example.org")
    assert 'href="/admin"' not in client.get("/staff").get_data(as_text=True)
    assert client.get("/admin").status_code == 403


# --- the account list -----------------------------------------------------------
def test_the_list_shows_roles_status_last_sign_in_and_enrolments(app, client, demo, admin):
    """Each row: name, email, roles, status, last sign-in (or never) and the number of enrolments."""
    signed_in_client(app, "lcsw@example.org")
    page = client.get("/admin/accounts?q=lcsw").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">.*?</tr>", page, re.S).group(0)
    assert "lcsw@example.org" in row and "Learner" in row and "active" in row
    assert "never" not in row and re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", row)
    assert "<td>1</td>" in row  # enrolled in the demo offering
    nurse = client.get("/admin/accounts?q=nurse@").get_data(as_text=True)
    assert "never" in nurse


def test_search_is_case_insensitive_on_name_and_email_and_treats_wildcards_literally(
    client, admin, make_user
):
    make_user(Role.LEARNER, email="maria.lopez@example.org", full_name="María López")
    make_user(Role.LEARNER, email="sam@example.org", full_name="Sam 100% Sure")
    make_user(Role.LEARNER, email="s_x@example.org", full_name="Other")
    assert "María López" in client.get("/admin/accounts?q=LOPEZ@").get_data(as_text=True)
    assert "María López" in client.get("/admin/accounts?q=maría").get_data(as_text=True)
    percent = client.get("/admin/accounts?q=100%25").get_data(as_text=True)
    assert "Sam 100% Sure" in percent and "María" not in percent
    underscore = client.get("/admin/accounts?q=s_").get_data(as_text=True)
    assert "s_x@example.org" in underscore and "sam@example.org" not in underscore
    empty = client.get("/admin/accounts?q=nobody-like-this")
    assert empty.status_code == 200 and "No account's name or email contains" in empty.get_data(as_text=True)


def test_the_list_is_paged_and_bad_page_values_answer_400_with_the_first_page(client, admin, make_user):
    for n in range(30):
        make_user(Role.LEARNER, email=f"p{n:02d}@example.org", full_name=f"Pat {n:02d}")
    first = client.get("/admin/accounts").get_data(as_text=True)
    assert "page 1 of 2" in first and "Pat 00" in first and "Pat 29" not in first and "?page=2" in first
    second = client.get("/admin/accounts?page=2").get_data(as_text=True)
    assert "Pat 29" in second and "Pat 00" not in second
    for bad in ("abc", "0", "-1", "1e3", "99999999999999999999999", "%EF%BC%91"):
        response = client.get(f"/admin/accounts?page={bad}")
        assert response.status_code == 400, bad
        assert "Pat 00" in response.get_data(as_text=True), bad
    beyond = client.get("/admin/accounts?page=7")
    assert beyond.status_code == 200 and "There are only 2 pages" in beyond.get_data(as_text=True)
    assert client.get("/admin/accounts?q=" + "x" * 201).status_code == 400


# --- create -----------------------------------------------------------
def test_creating_an_account_audits_it_and_shows_an_invitation_that_works(app, client, admin):
    response = client.post(
        "/admin/accounts/new", data=account_form("Ivy Instructor", "Ivy@Example.org", ["instructor"])
    )
    assert response.status_code == 200
    user = db.session.scalar(select(User).where(User.email == "ivy@example.org"))
    assert user.role_set == {Role.INSTRUCTOR} and user.password_hash is None
    assert events("account.create", user.id) and events("account.invite", user.id)
    assert events("account.create", user.id)[0].actor_id == admin.id
    link = shown_link(response.get_data(as_text=True))
    invited = app.test_client()
    assert invited.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    assert (
        invited.post("/login", data={"email": "ivy@example.org", "password": NEW_PASSWORD}).status_code == 302
    )


def test_creating_an_account_for_a_taken_email_is_refused(client, admin):
    response = client.post("/admin/accounts/new", data=account_form("Again", ADMIN, ["learner"]))
    assert response.status_code == 400 and "already exists" in response.get_data(as_text=True)
    no_roles = client.post("/admin/accounts/new", data=account_form("No Roles", "nr@example.org", []))
    assert no_roles.status_code == 400 and "at least one role" in no_roles.get_data(as_text=True)


# --- edit -----------------------------------------------------------
def test_editing_name_email_and_roles_is_audited_with_before_and_after(client, admin, make_user):
    user = make_user(Role.INSTRUCTOR, email="old@example.org", full_name="Old Name")
    response = client.post(
        f"/admin/accounts/{user.id}",
        data=account_form("New Name", "new@example.org", ["instructor", "coordinator"]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert (user.full_name, user.email) == ("New Name", "new@example.org")
    assert user.role_set == {Role.INSTRUCTOR, Role.COORDINATOR}
    (event,) = events("account.update", user.id)
    assert event.before == {"full_name": "Old Name", "email": "old@example.org", "roles": ["instructor"]}
    assert event.after["roles"] == ["coordinator", "instructor"]


def test_giving_the_learner_role_creates_a_profile_and_a_taken_email_is_refused(client, admin, make_user):
    user = make_user(Role.INSTRUCTOR, email="teach@example.org", full_name="Tea Cher")
    make_user(Role.LEARNER, email="taken@example.org")
    taken = client.post(
        f"/admin/accounts/{user.id}", data=account_form("Tea Cher", "taken@example.org", ["learner"])
    )
    assert taken.status_code == 400 and "already exists" in taken.get_data(as_text=True)
    assert (
        client.post(
            f"/admin/accounts/{user.id}", data=account_form("Tea Cher", "teach@example.org", ["learner"])
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(User, user.id).profile.certificate_name == "Tea Cher"


def test_nobody_removes_their_own_admin_role(client, admin, make_user):
    """Even with another admin present, the admin's own role stays and nothing is audited."""
    make_user(Role.ADMIN, email="second-admin@example.org")
    response = client.post(
        f"/admin/accounts/{admin.id}", data=account_form("Ada Admin", ADMIN, ["coordinator"])
    )
    assert response.status_code == 400 and "your own admin role" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).role_set == {Role.ADMIN}
    assert events("account.update", admin.id) == []


def test_an_admin_may_remove_another_admins_role(client, admin, make_user):
    other = make_user(Role.ADMIN, email="second-admin@example.org")
    response = client.post(
        f"/admin/accounts/{other.id}", data=account_form("Second", other.email, ["learner"])
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, other.id).role_set == {Role.LEARNER}


def test_the_last_enabled_admin_keeps_the_role_when_two_admins_demote_each_other(app, make_user):
    """Two admins remove each other's role at once: the second change, made as an admin who has just
    lost the role, finds the other the last enabled admin and is refused (account changes take turns)."""
    first = make_user(Role.ADMIN, email="a1@example.org")
    second = make_user(Role.ADMIN, email="a2@example.org")
    update_account(
        Actor(user=first, role="admin"),
        second,
        AccountData("Second", second.email, frozenset({Role.LEARNER})),
    )
    db.session.commit()
    with pytest.raises(AccountError, match="last enabled admin"):
        update_account(
            Actor(user=second, role="admin"),
            first,
            AccountData("First", first.email, frozenset({Role.LEARNER})),
        )
    db.session.rollback()
    assert db.session.get(User, first.id).role_set == {Role.ADMIN}


# --- disable and enable -----------------------------------------------------------
def test_disabling_ends_sessions_and_sign_in_and_enabling_restores_sign_in_only(
    app, client, admin, make_user
):
    user = make_user(Role.LEARNER, email="leaver@example.org")
    other = signed_in_client(app, "leaver@example.org")
    assert other.get("/learn").status_code == 200
    missing_reason = client.post(f"/admin/accounts/{user.id}/status", data={"reason": ""})
    assert missing_reason.status_code == 400
    assert (
        client.post(f"/admin/accounts/{user.id}/status", data={"reason": "Left the agency"}).status_code
        == 302
    )
    assert other.get("/learn").status_code == 302  # the old session is over
    refused = app.test_client().post(
        "/login", data={"email": "leaver@example.org", "password": TEST_PASSWORD}
    )
    assert refused.status_code == 200 and "do not match" in refused.get_data(as_text=True)
    assert "disabled" in client.get("/admin/accounts?q=leaver").get_data(as_text=True)
    (event,) = events("account.disable", user.id)
    assert event.reason == "Left the agency" and event.after == {"enabled": False}

    assert client.post(f"/admin/accounts/{user.id}/status", data={"reason": "Came back"}).status_code == 302
    assert other.get("/learn").status_code == 302  # enabling does not revive old cookies
    signed_in_client(app, "leaver@example.org")
    assert events("account.enable", user.id)[0].reason == "Came back"


def test_an_admin_cannot_disable_their_own_account(client, admin, make_user):
    make_user(Role.ADMIN, email="second-admin@example.org")
    response = client.post(f"/admin/accounts/{admin.id}/status", data={"reason": "Oops"})
    assert response.status_code == 400 and "your own" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, admin.id).is_enabled


# --- sign out everywhere -----------------------------------------------------------
def test_sign_out_everywhere_ends_another_clients_session(app, client, admin, make_user):
    user = make_user(Role.LEARNER, email="lost-phone@example.org")
    phone, laptop = signed_in_client(app, user.email), signed_in_client(app, user.email)
    assert phone.get("/learn").status_code == 200
    response = client.post(f"/admin/accounts/{user.id}/sign-out")
    assert response.status_code == 302
    for device in (phone, laptop):
        gone = device.get("/learn")
        assert gone.status_code == 302 and "/login" in gone.headers["Location"]
    assert len(events("account.sign_out_everywhere", user.id)) == 1
    assert client.get("/admin").status_code == 200  # the admin's own session is untouched
    signed_in_client(app, user.email)  # the password still works


def test_signing_yourself_out_everywhere_ends_this_session_too(client, admin):
    response = client.post(f"/admin/accounts/{admin.id}/sign-out")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get("/admin").status_code == 302


# --- invitation and reset links -----------------------------------------------------------
def test_an_account_without_a_password_gets_a_new_invitation_link(app, client, admin):
    client.post("/admin/accounts/new", data=account_form("Late Starter", "late@example.org", ["learner"]))
    user = db.session.scalar(select(User).where(User.email == "late@example.org"))
    page = client.post(f"/admin/accounts/{user.id}/link").get_data(as_text=True)
    assert "New invitation link" in page
    assert len(events("account.invite", user.id)) == 2
    assert app.test_client().get(shown_link(page)).status_code == 200


def test_an_account_with_a_password_gets_a_reset_link_that_works_once(app, client, admin, make_user):
    user = make_user(Role.LEARNER, email="forgetful@example.org")
    page = client.post(f"/admin/accounts/{user.id}/link").get_data(as_text=True)
    assert "Password-reset link" in page and "24 hours" in page
    (event,) = events("account.reset_link", user.id)
    assert event.actor_id == admin.id
    link = shown_link(page)
    other = app.test_client()
    assert other.post(link, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 302
    signed_in_client(app, user.email, NEW_PASSWORD)
    assert other.get(link).status_code == 404


def test_a_disabled_account_gets_no_link(client, admin, make_user):
    user = make_user(Role.LEARNER, email="off@example.org")
    client.post(f"/admin/accounts/{user.id}/status", data={"reason": "Left"})
    response = client.post(f"/admin/accounts/{user.id}/link", follow_redirects=True)
    assert "enable it before sending a link" in response.get_data(as_text=True)
    assert events("account.reset_link", user.id) == []


def test_a_link_the_admin_sends_is_queued_as_an_email_with_that_link(client, admin, make_user):
    """The admin's reset link goes out by email (outbox, same transaction) and is shown as a fallback."""
    user = make_user(Role.LEARNER, email="mailed@example.org")
    page = client.post(f"/admin/accounts/{user.id}/link").get_data(as_text=True)
    link = shown_link(page)
    assert "An email with this link is queued for mailed@example.org" in page
    queued = db.session.scalars(select(OutboxMessage).where(OutboxMessage.user_id == user.id)).all()
    assert [(m.kind, m.recipient) for m in queued] == [("password_reset", "mailed@example.org")]
    body = email.message_from_string(queued[0].content or "", policy=email.policy.default)
    text = body.get_body(preferencelist=("plain",)).get_content()
    assert link in text and "24 hours" in text


# --- last sign-in and erased accounts -----------------------------------------------------------
def test_signing_in_records_the_last_sign_in(app, make_user):
    user = make_user(Role.LEARNER, email="seen@example.org")
    assert user.last_signin_dt is None
    signed_in_client(app, "seen@example.org")
    db.session.expire_all()
    assert db.session.get(User, user.id).last_signin_dt is not None


def test_an_erased_account_cannot_be_changed(client, admin, make_user):
    from imh_course.models.types import utcnow

    user = make_user(Role.LEARNER, email="erased@example.org")
    user.erased_dt, user.is_enabled = utcnow(), False
    db.session.commit()
    page = client.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "cannot be changed" in page and "Edit the account" not in page
    response = client.post(f"/admin/accounts/{user.id}/status", data={"reason": "Back"})
    assert response.status_code == 400 and "erased" in response.get_data(as_text=True)
    assert client.get("/admin/accounts/999999").status_code == 404


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, make_user):
    """Through the real views, at the same moment: one change wins, the other is refused."""
    import threading

    first = make_user(Role.ADMIN, email="a1@example.org", full_name="First")
    second = make_user(Role.ADMIN, email="a2@example.org", full_name="Second")
    clients = {first.id: signed_in_client(app, first.email), second.id: signed_in_client(app, second.email)}
    targets = {first.id: second, second.id: first}
    plan = [
        (clients[me], f"/admin/accounts/{t.id}", account_form(t.full_name, t.email, ["learner"]))
        for me, t in targets.items()
    ]
    barrier = threading.Barrier(len(plan))
    statuses: list[int] = []

    def post(client, url, data) -> None:  # noqa: ANN001
        barrier.wait()
        statuses.append(client.post(url, data=data).status_code)

    threads = [threading.Thread(target=post, args=item) for item in plan]
    db.session.remove()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # the loser is refused by the rule (400), or, if it began after the winner committed, finds
    # its author no longer an admin (403)
    assert sorted(statuses)[0] == 302 and sorted(statuses)[1] in (400, 403)
    db.session.expire_all()
    admins = [
        u for u in (db.session.get(User, first.id), db.session.get(User, second.id)) if u.has_role(Role.ADMIN)
    ]
    assert len(admins) == 1
