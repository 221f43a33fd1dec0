"""Email through a real SMTP server on loopback (aiosmtpd): what arrives, once, and only on commit."""

from __future__ import annotations

import re
import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.mail import messages
from imh_course.mail.outbox import deliver_due, enqueue
from imh_course.models import AuditEvent, Offering, OutboxMessage, OutboxStatus, User
from imh_course.models.audit_chain import Actor
from imh_course.models.offerings import Funding
from imh_course.models.types import utcnow
from imh_course.operations.enrolment import LearnerData, enrol_learner
from tests.conftest import TEST_PASSWORD


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """The aiosmtpd handler: keeps every accepted message; can refuse and stop after N."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.stop_after: int | None = None
        self.on_stop = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, ARG002, N802
        with self.lock:
            if self.stop_after is not None and len(self.received) >= self.stop_after:
                if self.on_stop:
                    threading.Thread(target=self.on_stop).start()
                    self.on_stop = None
                return "421 4.3.2 Shutting down"
            parsed = message_from_bytes(envelope.content, policy=policy.default)
            parsed["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.received.append(parsed)
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [str(m["Message-ID"]) for m in self.received]


class SmtpServer:
    def __init__(self, port: int) -> None:
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_port() -> int:
    return _free_port()


@pytest.fixture
def app_config(smtp_port, tmp_path):
    return {
        "IMH_MAIL_SERVER": "127.0.0.1",
        "IMH_MAIL_PORT": smtp_port,
        "IMH_MAIL_SECURITY": "none",
        "IMH_MAIL_SENDER": "IMH Course <no-reply@example.org>",
        "IMH_MAIL_FOLDER": str(tmp_path / "mail"),
        "IMH_BASE_URL": "http://localhost",
        "IMH_OUTBOX_BATCH": 4,
    }


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


def _text(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def _links(message: EmailMessage) -> list[str]:
    return re.findall(r"http://localhost(/[^\s<>\"]+)", _text(message))


def test_forgot_password_mails_a_link_that_sets_the_password_once(client, make_user, smtp):
    """Only an enabled account gets a mail; its link sets a password once, then signs in with it."""
    make_user(email="ada@example.org", full_name="Ada <Lovelace>")
    disabled = make_user(email="off@example.org")
    disabled.is_enabled = False
    db.session.commit()
    for address in ("ada@example.org", "nobody@example.org", "off@example.org"):
        assert client.post("/account/forgot", data={"email": address}).status_code == 200
    assert deliver_due().sent == 1
    [mail] = smtp.inbox.received
    assert mail["X-Envelope-To"] == "ada@example.org"
    assert mail["Subject"] == "Set a new password for your course account"
    assert "Dear Ada <Lovelace>," in _text(mail)
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "Ada &lt;Lovelace&gt;" in html and "<img" not in html
    [link] = _links(mail)
    assert client.get(link).status_code == 200
    new = "a-brand-new-passphrase"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.get(link).status_code == 404  # used once
    assert client.post("/login", data={"email": "ada@example.org", "password": new}).status_code == 302


def test_enrolling_a_new_learner_mails_an_invitation(app, client, demo, smtp):
    """The invitation names the offering and its link lets the learner choose a password."""
    offering = db.session.get(Offering, demo.offering_id)
    data = LearnerData(email="new@example.org", name="Nina New", funding=Funding.GRANT_FUNDED)
    enrol_learner(Actor.system(), offering, data)
    db.session.commit()
    deliver_due()
    mails = [m for m in smtp.inbox.received if m["X-Envelope-To"] == "new@example.org"]
    assert len(mails) == 1
    assert offering.label in _text(mails[0])
    [link] = _links(mails[0])
    new = "quiet-harbour-lantern-7"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.post("/login", data={"email": "new@example.org", "password": new}).status_code == 302


def test_a_rolled_back_transaction_sends_nothing(app, make_user, smtp):
    """The message row lives and dies with its cause."""
    user = make_user(email="ada@example.org")
    enqueue(_message(user.email, 1), "test", user.id)
    db.session.rollback()
    assert deliver_due().attempted == 0
    assert smtp.inbox.received == []
    assert db.session.scalar(select(OutboxMessage.id)) is None


def _message(address: str, n: int) -> EmailMessage:
    site = messages.Site(sender="IMH <no-reply@example.org>", provider="P", course="C")
    return messages.password_reset(
        site, name=f"Person {n}", address=address, link=f"http://x/{n}", valid_for="1 hour"
    )


def _queue(count: int) -> None:
    for n in range(count):
        enqueue(_message(f"p{n}@example.org", n), "test")
    db.session.commit()


def test_server_stopped_mid_batch_then_restarted_delivers_each_message_once(app, smtp):
    """Messages refused while the server goes down are retried after back-off; none arrives twice."""
    _queue(7)
    smtp.inbox.stop_after = 3
    smtp.inbox.on_stop = smtp.stop
    first = deliver_due()
    assert first.sent == 3 and first.retrying == 4
    queued = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
    waiting = db.session.scalars(queued).all()
    assert len(waiting) == 4 and all(m.last_error and m.next_attempt_dt > utcnow() for m in waiting)
    assert deliver_due().attempted == 0  # not due yet
    smtp.inbox.stop_after = None
    smtp.start()
    assert deliver_due(now=utcnow() + timedelta(hours=1)).sent == 4
    ids = smtp.inbox.message_ids()
    assert len(ids) == len(set(ids)) == 7
    statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert statuses == [OutboxStatus.SENT] * 7


def test_two_workers_at_once_send_no_message_twice(app, smtp):
    """Two worker threads with their own sessions claim disjoint rows (SKIP LOCKED / write lock)."""
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
        thread.join(60)
    assert errors == []
    ids = smtp.inbox.message_ids()
    assert len(ids) == len(set(ids)) == 40
    db.session.expire_all()
    assert set(db.session.scalars(select(OutboxMessage.status))) == {OutboxStatus.SENT}


def test_a_permanent_refusal_is_marked_failed_with_the_reason(app, smtp):
    """A 5xx answer is not retried; the reason is kept for the outbox page."""
    _queue(1)

    async def refuse(server, session, envelope):  # noqa: ANN001, ANN202, ARG001
        return "550 5.1.1 No such mailbox"

    smtp.inbox.handle_DATA = refuse
    assert deliver_due().failed == 1
    row = db.session.scalar(select(OutboxMessage))
    assert row.status is OutboxStatus.FAILED and "550" in row.last_error


def test_without_a_server_messages_become_files(app, app_config, make_user):
    """The embedded default writes one .eml per message under the mail folder."""
    app.config["IMH_MAIL_SERVER"] = ""
    user = make_user(email="ada@example.org")
    row = enqueue(_message(user.email, 1), "test", user.id)
    db.session.commit()
    assert deliver_due().sent == 1
    from pathlib import Path

    from imh_course.mail.outbox import read_file_message

    found = read_file_message(Path(app_config["IMH_MAIL_FOLDER"]), row.id)
    assert found is not None and found["To"].addresses[0].addr_spec == "ada@example.org"
    assert db.session.get(OutboxMessage, row.id).delivered_via == "file"


_ = (User, TEST_PASSWORD)


def test_outbox_page_shows_the_reason_and_retry_now_delivers(app, client, login, make_user, smtp):
    """A coordinator sees a failed message with its reason, retries it, and the next pass sends it."""
    from imh_course.security.roles import Role

    make_user(Role.COORDINATOR, email="coord@example.org")
    _queue(1)

    async def refuse(server, session, envelope):  # noqa: ANN001, ANN202, ARG001
        return "550 5.1.1 No such mailbox"

    original = smtp.inbox.handle_DATA
    smtp.inbox.handle_DATA = refuse
    deliver_due()
    smtp.inbox.handle_DATA = original
    login("coord@example.org")
    page = client.get("/staff/outbox?status=failed").get_data(as_text=True)
    assert "p0@example.org" in page and "answered 550: 5.1.1 No such mailbox" in page
    row = db.session.scalar(select(OutboxMessage))
    assert client.post(f"/staff/outbox/{row.id}/retry").status_code == 302
    assert deliver_due().sent == 1
    assert len(smtp.inbox.received) == 1
    assert client.get(f"/staff/outbox/{row.id}").status_code == 403  # the text is for admins


def test_admin_reads_a_file_delivered_message_in_the_browser(app, client, login, make_user):
    """Embedded default: the invitation written to a file is readable on the admin's outbox page."""
    from imh_course.security.roles import Role

    app.config["IMH_MAIL_SERVER"] = ""
    make_user(Role.ADMIN, email="root@example.org")
    user = make_user(email="ada@example.org", full_name="Ada <b>Lovelace</b>")
    row = enqueue(_message(user.email, 1), "test", user.id)
    db.session.commit()
    deliver_due()
    login("root@example.org")
    page = client.get(f"/staff/outbox/{row.id}").get_data(as_text=True)
    assert "http://x/1" in page and "Set a new password" in page
    assert client.get("/staff/outbox/999999").status_code == 404


def test_issuing_a_certificate_mails_download_and_verify_links_that_work(app, client, demo, login, smtp):
    """The learner's mail has the download link (works once signed in) and the public /verify link."""
    from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work

    attend(demo.offering_id, demo.lcsw_id, 10)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    login("lcsw@example.org")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    client.post("/logout")
    login("coordinator@example.org")
    issue = f"/staff/offerings/{demo.offering_id}/certificates/{demo.lcsw_id}/issue"
    assert client.post(issue).status_code == 302
    client.post("/logout")
    deliver_due()
    [mail] = [m for m in smtp.inbox.received if m["X-Envelope-To"] == "lcsw@example.org"]
    assert "certificate" in str(mail["Subject"]).lower()
    text = " ".join(_text(mail).split())
    assert "certificate of continuing education" in text and "certifies 15.00 CE contact hours" in text
    download, verify = _links(mail)
    assert client.get(verify).status_code == 200  # anyone may check it
    login("lcsw@example.org")
    response = client.get(download)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_a_nurse_is_not_told_of_ce_in_her_certificate_mail(app, client, demo, login, smtp):
    """An RN (not covered by the approvals) gets a certificate of completion: the mail says so, no CE."""
    from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work

    attend(demo.offering_id, demo.nurse_id, 11)
    finish_independent_work(demo.offering_id, demo.nurse_id)
    login("nurse@example.org")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.nurse_id).status_code == 302
    client.post("/logout")
    login("coordinator@example.org")
    issue = f"/staff/offerings/{demo.offering_id}/certificates/{demo.nurse_id}/issue"
    assert client.post(issue).status_code == 302
    deliver_due()
    [mail] = [m for m in smtp.inbox.received if m["X-Envelope-To"] == "nurse@example.org"]
    text = " ".join(_text(mail).split())
    assert "certificate of completion" in text and "16.50 face-to-face clock hours (not CE credit)" in text
    assert "CE contact hours" not in text and "continuing education" not in text


def test_importing_a_roster_mails_each_new_learner_once(app, demo, smtp):
    """Every new account from the CSV gets its own invitation; a second import sends nothing more."""
    from imh_course.operations.enrolment import import_roster

    offering = db.session.get(Offering, demo.offering_id)
    csv = (
        b"name,email,discipline,license type,license number,funding\n"
        b"Ria Roster,ria@example.org,Nursing,RN,,\nSam Roster,sam@example.org,Nursing,RN,,\n"
    )
    for _ in range(2):
        import_roster(Actor.system(), offering, csv)
        db.session.commit()
    deliver_due()
    to = sorted(m["X-Envelope-To"] for m in smtp.inbox.received)
    assert to == ["ria@example.org", "sam@example.org"]


def test_cli_outbox_run_once_delivers_and_exits(app, runner, smtp):
    """`flask imh outbox run --once` sends what is due and returns."""
    _queue(2)
    result = runner.invoke(args=["imh", "outbox", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert len(smtp.inbox.received) == 2


def test_a_coordinators_new_invitation_is_emailed_and_the_page_says_so(app, client, demo, login, smtp):
    """ "New invitation link" on the enrolments page mails the link; the page says it went, and shows
    the same link only as a fallback, so the coordinator has nothing to pass on by hand."""
    offering = db.session.get(Offering, demo.offering_id)
    data = LearnerData(email="new@example.org", name="Nina New", funding=Funding.GRANT_FUNDED)
    learner_id = enrol_learner(Actor.system(), offering, data).user.id
    db.session.commit()
    deliver_due()
    smtp.inbox.received.clear()
    login("coordinator@example.org")
    response = client.post(f"/staff/offerings/{demo.offering_id}/enrolments/{learner_id}/invite")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert (
        "An email with this link is queued for new@example.org" in page
        and "you need not send anything" in page
    )
    client.post("/logout")
    deliver_due()
    [mail] = smtp.inbox.received
    assert mail["X-Envelope-To"] == "new@example.org"
    [link] = _links(mail)
    assert link.split("/account/", 1)[1] in page  # the fallback shown is the link that was mailed
    new = "quiet-harbour-lantern-8"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.post("/login", data={"email": "new@example.org", "password": new}).status_code == 302


def test_a_coordinator_emails_a_learner_a_reset_link_without_seeing_it(app, client, demo, login, smtp):
    """From the enrolments page: the link goes only to the learner's address, works once, audited."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/enrolments"
    response = client.post(f"{url}/{demo.lcsw_id}/reset-link", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "A password-reset link was emailed to" in page
    assert "/account/set-password/" not in page
    assert client.post(f"{url}/{demo.coordinator_id}/reset-link").status_code == 404  # not a learner here
    client.post("/logout")
    deliver_due()
    [mail] = smtp.inbox.received
    assert mail["X-Envelope-To"] == "lcsw@example.org"
    [link] = _links(mail)
    new = "a-brand-new-passphrase"
    assert client.post(link, data={"password": new, "confirm": new}).status_code == 302
    assert client.get(link).status_code == 404  # used once
    assert client.post("/login", data={"email": "lcsw@example.org", "password": new}).status_code == 302
    events = db.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "account.reset_link", AuditEvent.entity_id == str(demo.lcsw_id)
        )
    ).all()
    assert len(events) == 1
