"""The completion audit: learners × sessions matrix, filters, sorting, charts and drill-down."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceEvidence,
    AttendanceMethod,
    AttendanceRecord,
    EvidenceKind,
    Offering,
    User,
)
from imh_course.models.audit_chain import Actor, record_event
from imh_course.models.types import utcnow
from imh_course.operations.certificates import learner_standing
from imh_course.reports.matrix_data import load_matrix
from imh_course.rules.credit import AttendanceStatus
from imh_course.security.roles import Role
from tests.integration.coordinator_helpers import SECRET_TEXT, enrol_many, give_records, meetings_of


@contextmanager
def count_statements():
    """Count the SQL statements sent to the database inside the block."""
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        seen.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def _matrix(offering_id: int):
    db.session.expire_all()
    return load_matrix(db.session.get(Offering, offering_id))


def test_matrix_statements_do_not_grow_with_learners(app, demo):
    """The matrix of 30 learners takes as many SQL statements as the matrix of 3."""
    offering = db.session.get(Offering, demo.offering_id)
    offering_id = offering.id
    db.session.commit()
    with count_statements() as small:
        rows = load_matrix(db.session.get(Offering, offering_id)).rows
    assert len(rows) == 3
    ids = enrol_many(offering_id, 27)
    for i, uid in enumerate(ids):
        give_records(offering_id, uid, attended=i % 11, work=i % 2 == 0, evaluation=i % 3 == 0)
    db.session.expire_all()
    with count_statements() as large:
        rows = load_matrix(db.session.get(Offering, offering_id)).rows
    assert len(rows) == 30
    assert len(large) == len(small), (small, large)


def test_matrix_page_statements_do_not_grow_with_learners(app, client, demo, login):
    """The matrix page itself also runs a fixed number of statements, whatever the roster size: as
    many right after a write (the matrix is built) as before, and as many when nothing changed since
    the last request (the worker's snapshot of it is used)."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/matrix"

    def counted() -> tuple[int, int]:
        db.session.remove()  # the test client shares the test's app context: start each request afresh
        with count_statements() as cold:
            assert client.get(url).status_code == 200
        db.session.remove()
        with count_statements() as warm:
            assert client.get(url).status_code == 200
        return len(cold), len(warm)

    give_records(demo.offering_id, demo.lcsw_id, attended=1)  # a write: the first request builds
    small = counted()
    for uid in enrol_many(demo.offering_id, 27):
        give_records(demo.offering_id, uid, attended=4)
    large = counted()
    assert large == small
    assert small[1] < small[0]


def test_matrix_agrees_with_each_learners_standing(app, demo):
    """CE minutes, independent minutes, completion and eligibility match the learner's own ledger."""
    give_records(demo.offering_id, demo.lcsw_id, attended=11, late_minutes=20)
    give_records(demo.offering_id, demo.lmhc_id, attended=3, work=False, attest=False)
    give_records(demo.offering_id, demo.nurse_id, attended=10, evaluation=False)
    offering = db.session.get(Offering, demo.offering_id)
    rows = {r.user_id: r for r in _matrix(demo.offering_id).rows}
    for uid in (demo.lcsw_id, demo.lmhc_id, demo.nurse_id):
        standing = learner_standing(offering, db.session.get(User, uid))
        row = rows[uid]
        assert row.ce_minutes == standing.ledger.ce_minutes
        assert row.independent_minutes == standing.ledger.independent_minutes
        assert row.meetings_credited == standing.ledger.meetings_credited
        assert row.completion == standing.completion
        assert row.kind == standing.kind
        assert row.eligibility == standing.eligibility
    assert (
        rows[demo.lcsw_id].ce_minutes == 11 * 60
    )  # 20 minutes late: 70 attended, 60 credited (15-min steps)
    assert rows[demo.lcsw_id].eligibility.eligible


def test_matrix_shows_each_session_with_mark_minutes_and_work(app, client, demo, login):
    """Each cell shows the mark, the credited minutes, readings, exercises and quiz, linked to attendance."""
    give_records(demo.offering_id, demo.lcsw_id, attended=2)
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix").get_data(as_text=True)
    assert "Lena M. Social-Worker" in html
    assert "P 90" in html
    meeting = meetings_of(demo.offering_id)[0]
    roster = f"/staff/offerings/{demo.offering_id}/meetings/{meeting.id}/attendance#learner-{demo.lcsw_id}"
    assert roster in html
    assert re.search(r"R \d+/\d+ · X \d+/\d+ · Q ✓", html)
    assert SECRET_TEXT not in html


def test_matrix_fills_as_attendance_and_work_come_in(app, client, demo, login):
    """A learner's row goes from empty to credited once attendance and work are recorded."""
    login("coordinator@example.org")
    url = f"/staff/offerings/{demo.offering_id}/matrix?sort=ce&dir=desc"
    before = client.get(url).get_data(as_text=True)
    assert "P 90" not in before
    give_records(demo.offering_id, demo.lmhc_id, attended=5)
    after = client.get(url).get_data(as_text=True)
    assert after.count("P 90") == 5
    assert after.index("Marco A. Counselor") < after.index("Lena M. Social-Worker")  # most CE first


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("license=LMHC", ["Marco A. Counselor"], ["Lena M. Social-Worker", "Nia Nurse"]),
        ("license=RN", ["Nia Nurse"], ["Marco A. Counselor"]),
        ("not_issued=y", ["Marco A. Counselor", "Nia Nurse"], []),
    ],
)
def test_matrix_filters(app, client, demo, login, query, shown, hidden):
    """Filters by license type and by certificate not yet issued keep only matching learners."""
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix?{query}").get_data(as_text=True)
    table = html[html.index('class="matrix"') :]
    for name in shown:
        assert name in table
    for name in hidden:
        assert name not in table


def test_at_risk_filter_finds_learners_who_cannot_miss_another_session(app, client, demo, login):
    """Learners who missed past sessions so that 10 of 11 is out of reach are flagged at risk."""
    past = [m for m in meetings_of(demo.offering_id) if m.end_dt < utcnow()]
    assert len(past) >= 2
    give_records(demo.offering_id, demo.lcsw_id, attended=len(past))
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix?at_risk=y").get_data(as_text=True)
    table = html[html.index('class="matrix"') :]
    assert "Lena M. Social-Worker" not in table
    assert "Marco A. Counselor" in table and "Cannot complete" in table


def test_sort_links_are_plain_links_with_aria_sort(app, client, demo, login):
    """Sorting is server-side through query-string links; the sorted column says so to screen readers."""
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix?sort=license").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html
    assert "sort=license&amp;dir=desc" in html
    table = html[html.index('class="matrix"') :]
    # by license type: LCSW, LMHC, RN
    assert table.index("Lena M. Social-Worker") < table.index("Marco A. Counselor") < table.index("Nia Nurse")
    desc = client.get(f"/staff/offerings/{demo.offering_id}/matrix?sort=name&dir=desc").get_data(as_text=True)
    table = desc[desc.index('class="matrix"') :]
    assert table.index("Nia Nurse") < table.index("Lena M. Social-Worker")


def test_charts_are_accessible_inline_svg_with_numbers(app, client, demo, login):
    """Both charts are inline SVG with role=img, a title and description, no style attribute, and a table."""
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix").get_data(as_text=True)
    for chart in ("attendance-chart", "funnel-chart"):
        svg = re.search(rf'<svg[^>]*id="{chart}".*?</svg>', html, re.S).group(0)
        assert 'role="img"' in svg and f'aria-labelledby="{chart}-title {chart}-desc"' in svg
        assert f'<title id="{chart}-title">' in svg and f'<desc id="{chart}-desc">' in svg
        assert "style=" not in svg
    assert "S1: 1 of 3" in html  # the attendance chart's description spells out the numbers
    assert "<script" not in html
    assert "<caption>Learners per session" in html


def test_drilldown_shows_transcript_evidence_and_audit_events(app, client, demo, login):
    """A learner's page shows the transcript and, for each attendance record, its evidence and events."""
    give_records(demo.offering_id, demo.lcsw_id, attended=1)
    rec = db.session.scalars(select(AttendanceRecord).where(AttendanceRecord.user_id == demo.lcsw_id)).one()
    instructor = db.session.get(User, demo.instructor_id)
    db.session.add(
        AttendanceEvidence(
            record_id=rec.id,
            kind=EvidenceKind.SIGN_IN,
            method=AttendanceMethod.CODE,
            code_used="123456",
            actor_id=demo.lcsw_id,
        )
    )
    record_event(
        Actor(instructor, "instructor"),
        "attendance.correct",
        "attendance",
        rec.id,
        offering_id=demo.offering_id,
        learner_id=demo.lcsw_id,
        before={"status": "absent"},
        after={"status": "present"},
        reason="Signed the paper sheet",
    )
    db.session.commit()
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}").get_data(as_text=True)
    assert "Face-to-face sessions: CE contact hours" in html
    assert "Independent learning (not eligible for CE)" in html
    assert "sign in by code" in html and "code 123456" in html
    assert "attendance.correct by Indira Instructor" in html and "Signed the paper sheet" in html
    assert SECRET_TEXT not in html


def test_drilldown_of_someone_not_enrolled_is_404(app, client, demo, make_user, login):
    """A learner of another offering (or nobody) is not found here."""
    outsider = make_user(Role.LEARNER, email="outsider@example.org")
    login("coordinator@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}/learners/{outsider.id}").status_code == 404
    assert client.get("/staff/offerings/999/matrix").status_code == 404


def test_only_coordinators_see_the_matrix(app, client, demo, login):
    """Instructors (even of this offering) and learners are refused; signed-out visitors sign in."""
    url = f"/staff/offerings/{demo.offering_id}/matrix"
    assert "/login" in client.get(url).headers["Location"]
    login("instructor@example.org")
    assert client.get(url).status_code == 403
    assert client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}").status_code == 403
    client.post("/logout")
    login("lcsw@example.org")
    assert client.get(url).status_code == 403


def test_a_sign_in_without_sign_out_is_noted_where_it_is_counted(app, client, demo, login):
    """Signed in, never signed out: no credit. Every surface notes it with "no credit", never with
    "no record": the per-session table, the attendance chart's description and the matrix export."""
    meeting = meetings_of(demo.offering_id)[0]
    db.session.add(
        AttendanceRecord(
            meeting_id=meeting.id,
            user_id=demo.nurse_id,
            status=AttendanceStatus.PRESENT,
            arrived_dt=meeting.start_dt,
            departed_dt=None,
            method=AttendanceMethod.INSTRUCTOR,
        )
    )
    db.session.commit()
    login("coordinator@example.org")
    html = client.get(f"/staff/offerings/{demo.offering_id}/matrix").get_data(as_text=True)
    row = re.search(r'<tr><th scope="row">1</th>(.*?)</tr>', html).group(1)
    credited, no_credit, no_record = re.findall(r"<td>(.*?)</td>", row)
    assert credited == "0"
    assert no_credit == "1 (1 without sign-out)"
    assert "sign-out" not in no_record
    desc = re.search(r'<desc id="attendance-chart-desc">(.*?)</desc>', html).group(1)
    assert "S1: 0 of 3 (1 signed in without sign-out, not credited);" in desc
    csv = client.get(f"/staff/offerings/{demo.offering_id}/exports/completion-matrix.csv").get_data(
        as_text=True
    )
    nurse = next(line for line in csv.splitlines() if "nurse@example.org" in line)
    assert '"present (no sign-out: not credited)","0"' in nurse
