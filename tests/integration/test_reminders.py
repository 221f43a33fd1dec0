"""Meeting reminders (with the meeting's .ics) and "no sign-out recorded", through real SMTP, once each."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.mail.outbox import deliver_due
from imh_course.mail.scheduled import queue_scheduled
from imh_course.models import Offering, OutboxMessage, User
from imh_course.models.attendance import AttendanceMethod, AttendanceRecord
from imh_course.models.audit import AuditEvent
from imh_course.models.offerings import Enrolment, EnrolmentStatus, Meeting
from imh_course.models.types import utcnow
from imh_course.rules.credit import AttendanceStatus
from imh_course.templating import local_time_range
from tests.integration.test_outbox import _text, app_config, smtp, smtp_port  # noqa: F401 (fixtures)


def _future_meetings(offering_id: int) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.offering_id == offering_id, Meeting.start_dt > utcnow() + timedelta(days=2))
            .order_by(Meeting.start_dt)
        )
    )


def _noon_the_day_before(meeting: Meeting, tz_name: str) -> datetime:
    zone = ZoneInfo(tz_name)
    day = meeting.start_dt.astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day, time(12, 0), tzinfo=zone)


def _learners_wanting_reminders(offering_id: int) -> list[str]:
    return sorted(
        db.session.scalars(
            select(User.email)
            .join(Enrolment, Enrolment.user_id == User.id)
            .where(
                Enrolment.offering_id == offering_id,
                Enrolment.status == EnrolmentStatus.ACTIVE,
                User.meeting_reminders.is_(True),
            )
        )
    )


def _count(kind: str) -> int:
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == kind)
    )


def _unfold(ics: str) -> dict[str, str]:
    lines = ics.replace("\r\n", "\n").replace("\n ", "").split("\n")
    inside = lines[lines.index("BEGIN:VEVENT") + 1 : lines.index("END:VEVENT")]
    return dict(line.split(":", 1) for line in inside)


def test_reminder_arrives_the_day_before_with_the_meeting_ics_except_for_who_opted_out(
    app,
    client,
    login,
    runner,
    demo,
    smtp,  # noqa: F811 (the imported fixture)
):
    """The profile checkbox turns reminders off (audited); everyone else gets one, once, with the .ics."""
    login("nurse@example.org")
    nurse = db.session.get(User, demo.nurse_id)
    form = {
        "certificate_name": nurse.profile.certificate_name,
        "license_type": nurse.profile.license_type or "",
    }
    form.update(
        license_number=nurse.profile.license_number or "", license_state=nurse.profile.license_state or ""
    )
    assert 'name="meeting_reminders"' in client.get("/learn/profile").get_data(as_text=True)
    assert client.post("/learn/profile", data=form).status_code == 302  # box unchecked
    db.session.expire_all()
    assert db.session.get(User, demo.nurse_id).meeting_reminders is False
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "profile.meeting_reminders"))
    assert event.before == {"meeting_reminders": True} and event.after == {"meeting_reminders": False}

    offering = db.session.get(Offering, demo.offering_id)
    meeting = _future_meetings(offering.id)[0]
    now = _noon_the_day_before(meeting, offering.timezone)
    expected = _learners_wanting_reminders(offering.id)
    assert "nurse@example.org" not in expected and "lcsw@example.org" in expected

    result = runner.invoke(args=["imh", "outbox", "reminders", "--now", now.isoformat()])
    assert result.exit_code == 0, result.output
    assert f"queued {len(expected)} meeting reminders" in result.output
    again = runner.invoke(
        args=["imh", "outbox", "reminders", "--now", (now + timedelta(hours=3)).isoformat()]
    )
    assert "queued 0 meeting reminders" in again.output
    deliver_due()

    reminders = [m for m in smtp.inbox.received if str(m["Subject"]).startswith("Reminder:")]
    assert sorted(m["X-Envelope-To"] for m in reminders) == expected
    mail = next(m for m in reminders if m["X-Envelope-To"] == "lcsw@example.org")
    session = f"Session {meeting.session.number}: {meeting.session.title}"
    assert mail["Subject"] == f"Reminder: {session} meets tomorrow"
    text = _text(mail)
    assert local_time_range(meeting.start_dt, meeting.end_dt, offering.timezone) in text
    assert "http://localhost/learn/profile" in text
    [attachment] = list(mail.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_filename() == f"imh-session-{meeting.session.number}.ics"
    event = _unfold(attachment.get_content())
    assert event["UID"] == f"imh-meeting-{meeting.id}@localhost"
    assert event["DTSTART"] == meeting.start_dt.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert event["DTEND"] == meeting.end_dt.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")
    assert session.replace(",", "\\,") in event["SUMMARY"]
    # The same UID as the learner's calendar download, so calendar apps merge rather than duplicate.
    login("lcsw@example.org")
    download = client.get(f"/learn/offerings/{offering.id}/calendar.ics").get_data(as_text=True)
    assert f"UID:imh-meeting-{meeting.id}@localhost" in download


def test_no_reminder_two_days_before_or_once_the_meeting_started(app, demo):
    offering = db.session.get(Offering, demo.offering_id)
    meeting = _future_meetings(offering.id)[0]
    before = _noon_the_day_before(meeting, offering.timezone) - timedelta(days=1)
    assert queue_scheduled(before).reminders == 0
    assert queue_scheduled(meeting.start_dt + timedelta(minutes=1)).reminders == 0
    assert _count("meeting_reminder") == 0


def test_two_scans_at_once_queue_each_reminder_once(app, demo):
    """Concurrent scans (two workers, or cron beside the worker) never queue a reminder twice."""
    offering = db.session.get(Offering, demo.offering_id)
    meeting = _future_meetings(offering.id)[0]
    now = _noon_the_day_before(meeting, offering.timezone)
    expected = len(_learners_wanting_reminders(offering.id))
    db.session.remove()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def scan() -> None:
        try:
            with app.app_context():
                start.wait(10)
                queue_scheduled(now)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert _count("meeting_reminder") == expected > 0


def test_no_sign_out_mail_goes_once_to_the_learner_missing_a_sign_out(app, demo, smtp):  # noqa: F811
    """Signed in and out: nothing; signed in only: one notice after the meeting, however often scanned."""
    offering = db.session.get(Offering, demo.offering_id)
    meeting = _future_meetings(offering.id)[1]  # two weeks past the demo's own attendance
    for user_id, departed in ((demo.lcsw_id, None), (demo.lmhc_id, meeting.end_dt)):
        db.session.add(
            AttendanceRecord(
                meeting_id=meeting.id,
                user_id=user_id,
                status=AttendanceStatus.PRESENT,
                arrived_dt=meeting.start_dt,
                departed_dt=departed,
                method=AttendanceMethod.CODE,
            )
        )
    db.session.commit()
    assert queue_scheduled(meeting.end_dt - timedelta(minutes=5)).sign_outs == 0  # not over yet
    after = meeting.end_dt + timedelta(hours=1)
    assert queue_scheduled(after).sign_outs == 1
    assert queue_scheduled(after + timedelta(hours=6)).sign_outs == 0
    deliver_due()
    notices = [m for m in smtp.inbox.received if str(m["Subject"]).startswith("No sign-out")]
    assert [m["X-Envelope-To"] for m in notices] == ["lcsw@example.org"]
    session = f"Session {meeting.session.number}: {meeting.session.title}"
    assert notices[0]["Subject"] == f"No sign-out recorded for {session}"
    text = _text(notices[0])
    assert "no sign-out was recorded" in text and offering.label in text
    assert f"http://localhost/learn/offerings/{offering.id}/transcript" in text


def test_reminder_and_sign_out_mails_name_ce_only_to_whom_it_will_be_certified(app, demo, smtp):  # noqa: F811
    """Issue 13: the nurse (RN; the offering's approvals do not cover her) is never told of CE, in
    either scheduled email; the LCSW is, from the same one decision (``rules.ce_standing``)."""
    from imh_course.records.certificate_facts import learner_ce_standing

    offering = db.session.get(Offering, demo.offering_id)
    nurse, lcsw = db.session.get(User, demo.nurse_id), db.session.get(User, demo.lcsw_id)
    assert not learner_ce_standing(nurse, offering).certifiable
    assert learner_ce_standing(lcsw, offering).certifiable
    meeting = _future_meetings(offering.id)[1]
    for user_id in (demo.nurse_id, demo.lcsw_id):
        db.session.add(
            AttendanceRecord(
                meeting_id=meeting.id,
                user_id=user_id,
                status=AttendanceStatus.PRESENT,
                arrived_dt=meeting.start_dt,
                method=AttendanceMethod.CODE,
            )
        )
    db.session.commit()
    reminded = queue_scheduled(_noon_the_day_before(meeting, offering.timezone))
    noticed = queue_scheduled(meeting.end_dt + timedelta(hours=1))
    assert reminded.reminders >= 2 and noticed.sign_outs == 2
    deliver_due()

    def mail(to: str, subject: str) -> str:
        mine = [m for m in smtp.inbox.received if m["X-Envelope-To"] == to]
        [found] = [m for m in mine if str(m["Subject"]).startswith(subject)]
        return _text(found)

    for subject in ("Reminder:", "No sign-out"):
        nurse_text, lcsw_text = mail("nurse@example.org", subject), mail("lcsw@example.org", subject)
        assert "CE" not in nurse_text.replace("\n", " ").split("Dear", 1)[1], nurse_text
        assert "face-to-face hours" in nurse_text
        assert "CE" in lcsw_text


def test_reminders_command_refuses_a_time_without_its_offset(app, runner):
    """A naive --now would be read in the server's zone by guesswork: refuse it, queue nothing."""
    for bad in ("2026-12-07T09:00:00", "next tuesday"):
        result = runner.invoke(args=["imh", "outbox", "reminders", "--now", bad])
        assert result.exit_code == 2 and "--now" in result.output
    assert _count("meeting_reminder") == 0
