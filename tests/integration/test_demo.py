"""`flask imh demo` (issue 13): a believable mid-term offering where every alert is one the data justifies.

Built through the CLI, as `make run` builds it, then looked at as each demo account would.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceEvidence,
    AttendanceRecord,
    AuditEvent,
    Certificate,
    Enrolment,
    ExerciseResponseRevision,
    Meeting,
    Offering,
    QuizAttempt,
    ReadingCompletion,
    User,
)
from imh_course.models.outbox import OutboxMessage
from imh_course.models.types import utcnow
from imh_course.operations.accounts import find_user
from imh_course.operations.certificates import learner_standing
from imh_course.operations.demo import DEMO_SIGN_INS
from imh_course.operations.demo.story import EXCUSED_MEETING, LATE_MEETING, LATE_MINUTES
from imh_course.rules.credit import AttendanceStatus
from imh_course.views.certificates import standing_prospects

PASSWORD = "demo-password-2026"
NO_LONGER = "can no longer be met"
#: the mid-term offering's learners, by the story each tells
FULL, LATE, NURSE, EXCUSED, NO_SIGN_OUT = (
    "lcsw@example.org",
    "lmhc@example.org",
    "nurse@example.org",
    "lmsw@example.org",
    "lmft@example.org",
)
MID_TERM = (FULL, LATE, NURSE, EXCUSED, NO_SIGN_OUT)

TABLES = (
    Offering,
    Meeting,
    User,
    Enrolment,
    AttendanceRecord,
    AttendanceEvidence,
    ReadingCompletion,
    ExerciseResponseRevision,
    QuizAttempt,
    Certificate,
    AuditEvent,
)


def counts() -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(t)) for t in TABLES)


@pytest.fixture
def built(app, runner):
    """The demo, built by the CLI with the demo password; returns the CLI output."""
    app.config["IMH_DEMO_PASSWORD"] = PASSWORD
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    result = runner.invoke(args=["imh", "demo", "--base-url", "http://localhost"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def mid_term() -> Offering:
    """The offering with meetings still to come."""
    now = utcnow()
    return next(o for o in db.session.scalars(select(Offering)) if any(m.end_dt > now for m in o.meetings))


def finished() -> Offering:
    """The offering whose meetings are all over."""
    now = utcnow()
    return next(o for o in db.session.scalars(select(Offering)) if all(m.end_dt <= now for m in o.meetings))


def sign_in(client, email: str) -> None:
    """Sign ``client`` in as ``email`` (a fresh cookie jar first: one person per client at a time)."""
    client._cookies.clear()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, f"{email} cannot sign in"


def records_of(offering: Offering, email: str) -> list[AttendanceRecord]:
    user = find_user(email)
    return list(
        db.session.scalars(
            select(AttendanceRecord)
            .join(Meeting, Meeting.id == AttendanceRecord.meeting_id)
            .where(Meeting.offering_id == offering.id, AttendanceRecord.user_id == user.id)
            .order_by(Meeting.start_dt)
        )
    )


def test_past_meetings_carry_the_story_of_each_learner(built):
    """Each past meeting has a record per learner: full, late once, excused once, one missing sign-out."""
    mid = mid_term()
    past = [m for m in mid.meetings if m.end_dt <= utcnow()]
    assert 5 <= len(past) <= 6 and len(mid.meetings) == 11
    for email in MID_TERM:
        assert len(records_of(mid, email)) == len(past), email
    statuses = {e: [AttendanceStatus(r.status) for r in records_of(mid, e)] for e in MID_TERM}
    assert set(statuses[FULL]) == set(statuses[NURSE]) == {AttendanceStatus.PRESENT}
    assert statuses[LATE][LATE_MEETING] is AttendanceStatus.LATE
    late = records_of(mid, LATE)[LATE_MEETING]
    assert (late.arrived_dt - past[LATE_MEETING].start_dt).total_seconds() == LATE_MINUTES * 60
    assert statuses[EXCUSED][EXCUSED_MEETING] is AttendanceStatus.EXCUSED
    missing = [r for r in records_of(mid, NO_SIGN_OUT) if r.arrived_dt and r.departed_dt is None]
    assert len(missing) == 1 and missing[0].meeting_id == past[-1].id
    # Through the real operations: every record has its evidence and its audit event.
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"attendance.mark", "attendance.sign_in", "attendance.sign_out", "checkin.open"} <= actions
    assert {"certificate.issue", "attestation.create", "evaluation.submit"} <= actions
    records = db.session.scalar(select(func.count()).select_from(AttendanceRecord))
    evidenced = db.session.scalar(select(func.count(func.distinct(AttendanceEvidence.record_id))))
    assert records == evidenced


def test_no_learner_sees_an_alert_the_data_does_not_justify(app, built, client):
    """Everyone can still meet the completion policy, so no page says it can no longer be met."""
    mid = mid_term()
    with app.test_request_context():
        for email in MID_TERM:
            standing = learner_standing(mid, find_user(email))
            assert standing.completion.can_still_complete, email
            assert standing_prospects(standing).alert is None, email
    for email in MID_TERM:
        sign_in(client, email)
        for url in (f"/learn/offerings/{mid.id}", f"/learn/offerings/{mid.id}/certificates"):
            page = client.get(url).get_data(as_text=True)
            assert NO_LONGER not in page and "flash-error" not in page, (email, url)
    sign_in(client, FULL)
    dashboard = client.get(f"/learn/offerings/{mid.id}").get_data(as_text=True)
    assert "Independent learning: 0.00" not in dashboard  # some independent work is done
    assert "CE contact hours" in dashboard and "Not attended" not in dashboard
    sign_in(client, NURSE)
    dashboard = client.get(f"/learn/offerings/{mid.id}").get_data(as_text=True)
    assert "not CE for your license (RN)" in dashboard
    sign_in(client, NO_SIGN_OUT)
    dashboard = client.get(f"/learn/offerings/{mid.id}").get_data(as_text=True)
    assert "no sign-out recorded yet" in dashboard


def test_the_matrix_flags_only_the_learners_who_cannot_miss_another_session(built, client):
    """The excused and the missing sign-out have used their one miss; nobody 'Cannot complete'."""
    mid = mid_term()
    sign_in(client, "coordinator@example.org")
    page = client.get(f"/staff/offerings/{mid.id}/matrix").get_data(as_text=True)
    assert "Cannot complete" not in page
    rows = {}
    for email in MID_TERM:
        link = f'/learners/{find_user(email).id}"'
        row = next(r for r in re.split(r"<tr\b", page) if link in r)
        rows[email] = "At risk: cannot miss another session" in row
    assert rows == {FULL: False, LATE: False, NURSE: False, EXCUSED: True, NO_SIGN_OUT: True}


def test_the_finished_offering_certificate_verifies(built, client):
    """Last term's graduate holds a valid CE certificate; /verify says so to anyone."""
    certificate = db.session.scalar(select(Certificate).where(Certificate.offering_id == finished().id))
    assert certificate is not None and certificate.user_id == find_user("graduate@example.org").id
    assert f"/verify/{certificate.public_id}" in built
    page = client.get(f"/verify/{certificate.public_id}").get_data(as_text=True)
    assert "Valid." in page and "Grace E. Graduate" in page


def test_the_graduate_reads_what_she_received_not_a_promise(built, client):
    """With her certificate issued, the page says it was issued (and where to download it), no
    longer "You will receive…"."""
    sign_in(client, "graduate@example.org")
    page = client.get(f"/learn/offerings/{finished().id}/certificates").get_data(as_text=True)
    assert "What you received" in page and "Your CE certificate was issued" in page
    assert "You will receive" not in page and "What you will receive" not in page


def test_every_listed_account_signs_in_including_the_admin(built, client):
    """The CLI lists every account it made, the admin among them, and each signs in with the demo password."""
    emails = [account.email for account, _shows in DEMO_SIGN_INS]
    assert "admin@example.org" in emails and len(emails) == db.session.scalar(
        select(func.count()).select_from(User)
    )
    for email in emails:
        assert email in built
        sign_in(client, email)
    assert client.get("/staff/audit").status_code == 200  # signed in as the admin last


def test_the_admin_reads_the_demo_email_in_the_outbox(built, client):
    """Without a mail server the demo's email is kept: the admin opens the certificate notice."""
    sign_in(client, "admin@example.org")
    outbox = client.get("/staff/outbox").get_data(as_text=True)
    assert "graduate@example.org" in outbox
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "certificate_issued"))
    page = client.get(f"/staff/outbox/{message.id}")
    assert page.status_code == 200 and "/verify/" in page.get_data(as_text=True)


def test_running_the_demo_again_changes_nothing(built, runner):
    """A second `flask imh demo` adds no row anywhere, not even an audit event."""
    before = counts()
    again = runner.invoke(args=["imh", "demo", "--base-url", "http://localhost"])
    assert again.exit_code == 0 and "Reusing" in again.output
    db.session.expire_all()
    assert counts() == before


def test_a_meeting_time_range_shows_the_zone_once(built, client):
    """The roster of a past meeting reads "Tue … · 12:00–1:30 PM EST": one zone, no "PM EST to"."""
    mid = mid_term()
    meeting = mid.meetings[0]
    sign_in(client, "instructor@example.org")
    page = client.get(f"/staff/offerings/{mid.id}/meetings/{meeting.id}/attendance").get_data(as_text=True)
    lead = re.search(r'<p class="lead">(.*?)</p>', page, re.S).group(1)
    assert re.search(r"· 12:00–1:30 PM E[SD]T</time>", lead), lead
    assert " to " not in re.sub(r"<[^>]+>", "", lead)
