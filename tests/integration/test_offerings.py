"""Coordinators create offerings, generate the 11 weekly meetings and edit any of them (audited)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AuditEvent, BoardApproval, InstructorAssignment, Meeting, Offering, Term
from imh_course.security.roles import Role
from tests.integration.coordinator_helpers import enrol_many, give_records, meetings_of

NY = ZoneInfo("America/New_York")
SW_STATEMENT = (
    "Test Provider is recognized by the State Board for Social Work as an approved provider #SW-0057."
)


def offering_form(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "term": "spring",
        "year": "2031",
        "format": "in_person",
        "location": "200 Genesee St, Rochester, NY",
        "meeting_url": "",
        "timezone": "America/New_York",
        "social_work_number": "SW-0057",
        "social_work_statement": SW_STATEMENT,
        "mental_health_number": "",
        "mental_health_statement": "",
    }
    data.update(changes)
    return data


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def new_offering(client, **changes: object) -> Offering:  # noqa: ANN001
    response = client.post("/staff/offerings/new", data=offering_form(**changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    return db.session.scalar(select(Offering).where(Offering.term == Term.SPRING, Offering.year == 2031))


def test_coordinator_creates_an_offering_with_approvals_and_instructors(client, demo, login):
    """A new offering keeps its format, place, time zone, board approval and instructors, and is audited."""
    login("coordinator@example.org")
    page = client.get("/staff").get_data(as_text=True)
    assert "/staff/offerings/new" in page
    offering = new_offering(client, instructors=[str(demo.instructor_id)])
    assert offering.location == "200 Genesee St, Rochester, NY"
    assert [(a.board.value, a.provider_number) for a in offering.approvals] == [("social_work", "SW-0057")]
    assert (
        db.session.scalar(
            select(InstructorAssignment.user_id).where(InstructorAssignment.offering_id == offering.id)
        )
        == demo.instructor_id
    )
    created = events("offering.create")[-1]
    assert created.offering_id == offering.id and created.actor_id == demo.coordinator_id
    assert created.after["approvals"] == {"social_work": "SW-0057"}
    assert events("offering.assign_instructor")[-1].offering_id == offering.id


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"social_work_number": "SW-57"}, "provider numbers look like SW-0057"),
        (
            {"mental_health_number": "SW-0057", "mental_health_statement": "x"},
            "provider numbers look like MHC-0048",
        ),
        ({"social_work_statement": ""}, "Enter the board&#39;s approval statement."),
        ({"location": ""}, "Enter the location of an in-person offering."),
        (
            {"format": "live_online", "meeting_url": "not a link"},
            "Enter the full link, starting with https://.",
        ),
        ({"timezone": "Mars/Olympus"}, "IANA time zone"),
        ({"year": "abc"}, "Enter the year as a whole number, e.g. 2027."),
        ({"term": "winter"}, "Not a valid choice"),
        ({"year": "1999"}, "Enter a year from 2000 to 2100."),
    ],
)
def test_bad_offering_input_is_refused_with_its_reason(client, demo, login, changes, message):
    """Invalid input re-renders the form with the reason (400) and creates nothing."""
    login("coordinator@example.org")
    before = db.session.scalar(select(db.func.count()).select_from(Offering))
    response = client.post("/staff/offerings/new", data=offering_form(**changes))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(Offering)) == before


def test_the_same_term_and_year_twice_is_refused(client, demo, login):
    """Only one offering per term and year: the second is refused beside the term."""
    login("coordinator@example.org")
    new_offering(client)
    response = client.post("/staff/offerings/new", data=offering_form())
    assert response.status_code == 400
    assert "There is already a Spring 2031 offering." in response.get_data(as_text=True)


def test_generate_the_11_weekly_meetings_in_local_time_across_dst(client, demo, login):
    """11 meetings, one per session, weekly on the chosen weekday at the local time, even across DST."""
    login("coordinator@example.org")
    offering = new_offering(client)
    url = f"/staff/offerings/{offering.id}/meetings/schedule"
    response = client.post(url, data={"first_date": "2031-10-01", "weekday": "3", "start_time": "18:00"})
    assert response.status_code == 302
    meetings = meetings_of(offering.id)
    assert len(meetings) == 11
    local = [m.start_dt.astimezone(NY) for m in meetings]
    assert local[0].date() == date(2031, 10, 2)  # the first Thursday on or after Oct 1
    assert all(t.weekday() == 3 and (t.hour, t.minute) == (18, 0) for t in local)
    assert all(
        b - a == timedelta(weeks=1)
        for a, b in zip([t.date() for t in local[:-1]], [t.date() for t in local[1:]], strict=True)
    )
    assert {m.length_minutes for m in meetings} == {90}
    assert len(events("meeting.schedule")[-1].after["meetings"]) == 11
    again = client.post(url, data={"first_date": "2031-10-01", "weekday": "3", "start_time": "18:00"})
    assert again.status_code == 400
    assert "already has its meetings" in again.get_data(as_text=True)
    assert len(meetings_of(offering.id)) == 11


def test_schedule_form_errors_are_400(client, demo, login):
    """A missing date or time re-renders the schedule form with errors, never a 500."""
    login("coordinator@example.org")
    offering = new_offering(client)
    response = client.post(
        f"/staff/offerings/{offering.id}/meetings/schedule", data={"first_date": "tomorrow", "weekday": "9"}
    )
    assert response.status_code == 400
    assert meetings_of(offering.id) == []


def test_edit_a_meeting_is_audited_and_needs_a_reason_once_attended(client, demo, login):
    """Moving a meeting is audited with before/after; with attendance recorded, a reason is required."""
    login("coordinator@example.org")
    meeting = meetings_of(demo.offering_id)[6]
    url = f"/staff/offerings/{demo.offering_id}/meetings/{meeting.id}/edit"
    assert client.get(url).status_code == 200
    day = meeting.start_dt.astimezone(NY).date() + timedelta(days=1)
    form = {
        "day": day.isoformat(),
        "start_time": "13:00",
        "end_time": "14:30",
        "ce_eligible": "y",
        "reason": "",
    }
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    moved = db.session.get(Meeting, meeting.id)
    assert moved.start_dt.astimezone(NY).date() == day and moved.start_dt.astimezone(NY).hour == 13
    update = events("meeting.update")[-1]
    assert update.before["start"] != update.after["start"] and update.reason is None

    first = meetings_of(demo.offering_id)[0]
    give_records(demo.offering_id, demo.lcsw_id, attended=1, work=False, evaluation=False, attest=False)
    url = f"/staff/offerings/{demo.offering_id}/meetings/{first.id}/edit"
    start = first.start_dt.astimezone(NY)
    form = {"day": start.date().isoformat(), "start_time": "12:00", "end_time": "13:00", "ce_eligible": "y"}
    refused = client.post(url, data=form)
    assert refused.status_code == 400
    assert "give a reason" in refused.get_data(as_text=True)
    assert client.post(url, data={**form, "reason": "The room closed early"}).status_code == 302
    assert events("meeting.update")[-1].reason == "The room closed early"


def test_meeting_end_before_start_is_refused(client, demo, login):
    """An end time before the start re-renders the form (400) and changes nothing."""
    login("coordinator@example.org")
    meeting = meetings_of(demo.offering_id)[8]
    url = f"/staff/offerings/{demo.offering_id}/meetings/{meeting.id}/edit"
    day = meeting.start_dt.astimezone(NY).date().isoformat()
    response = client.post(
        url, data={"day": day, "start_time": "14:00", "end_time": "13:00", "ce_eligible": "y"}
    )
    assert response.status_code == 400
    assert "The end must be after the start." in response.get_data(as_text=True)


def test_meeting_of_another_offering_is_404(client, demo, login):
    """A meeting id from another offering in the URL is not found."""
    login("coordinator@example.org")
    offering = new_offering(client)
    meeting = meetings_of(demo.offering_id)[0]
    assert client.get(f"/staff/offerings/{offering.id}/meetings/{meeting.id}/edit").status_code == 404


def test_edit_offering_changes_approvals_and_instructors_with_audit(client, demo, login):
    """Editing adds a board approval and removes an instructor; each change is an audit event."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "SW-0000" in page and "MHC-0000" in page
    offering = db.session.get(Offering, demo.offering_id)
    form = offering_form(
        term=offering.term.value,
        year=str(offering.year),
        social_work_number="SW-0057",
        mental_health_number="",
        mental_health_statement="",
    )
    assert client.post(url, data=form).status_code == 302
    db.session.expire_all()
    approvals = db.session.scalars(
        select(BoardApproval).where(BoardApproval.offering_id == demo.offering_id)
    ).all()
    assert [(a.board.value, a.provider_number) for a in approvals] == [("social_work", "SW-0057")]
    assert events("offering.update")[-1].after["approvals"] == {"social_work": "SW-0057"}
    assert events("offering.unassign_instructor")[-1].before == {"instructor_id": demo.instructor_id}


def test_an_edited_approval_statement_is_in_the_audit_before_and_after(client, demo, login):
    """The board's statement is printed on CE certificates: changing its wording is an audited
    correction with the old and the new text, not a silent edit."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/edit"
    offering = db.session.get(Offering, demo.offering_id)
    old = {a.board.value: a.statement for a in offering.approvals}
    numbers = {a.board.value: a.provider_number for a in offering.approvals}
    form = offering_form(
        term=offering.term.value,
        year=str(offering.year),
        social_work_number=numbers["social_work"],
        social_work_statement="A reworded approval statement.",
        mental_health_number=numbers["mental_health"],
        mental_health_statement=old["mental_health"],
    )
    assert client.post(url, data=form).status_code == 302
    event = events("offering.update")[-1]
    assert event.before["approval_statements"] == {"social_work": old["social_work"]}
    assert event.after["approval_statements"] == {"social_work": "A reworded approval statement."}
    assert event.before["approvals"] == event.after["approvals"] == numbers
    page = client.get(f"/staff/audit?offering={demo.offering_id}").get_data(as_text=True)
    assert "A reworded approval statement." in page


def test_only_coordinators_manage_offerings(client, demo, login, make_user):
    """Instructors and learners cannot create or edit offerings or meetings."""
    make_user(Role.INSTRUCTOR, email="teacher@example.org")
    meeting = meetings_of(demo.offering_id)[0]
    for email in ("instructor@example.org", "lcsw@example.org"):
        login(email)
        assert client.get("/staff/offerings/new").status_code == 403
        assert client.post("/staff/offerings/new", data=offering_form()).status_code == 403
        assert client.get(f"/staff/offerings/{demo.offering_id}/edit").status_code == 403
        assert (
            client.get(f"/staff/offerings/{demo.offering_id}/meetings/{meeting.id}/edit").status_code == 403
        )
        client.post("/logout")
    login("instructor@example.org")
    assert "/staff/offerings/new" not in client.get("/staff").get_data(as_text=True)


def test_offering_page_links_the_coordinator_tools(client, demo, login):
    """The offering page links the completion audit, enrolments, exports and meeting edits."""
    enrol_many(demo.offering_id, 1)
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}").get_data(as_text=True)
    for path in ("/matrix", "/enrolments", "/exports", "/edit"):
        assert f"/staff/offerings/{demo.offering_id}{path}" in html
    assert f"/meetings/{meetings_of(demo.offering_id)[0].id}/edit" in html
