"""The endorsement training log: one entry per attended meeting, independent study apart, CSV and PDF."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

from imh_course.extensions import db
from imh_course.models import Offering
from imh_course.records.ledgers import credit_policy, learner_ledger
from imh_course.rules.credit import format_hours
from tests.integration.certificate_helpers import attend, finish_independent_work, meetings_of, pdf_text

TZ = ZoneInfo("America/New_York")
TITLE = "Infant Mental Health: Theory to Practice"


def rows(client, offering_id: int) -> list[list[str]]:  # noqa: ANN001
    response = client.get(f"/learn/offerings/{offering_id}/training-log.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def test_csv_lists_each_attended_meeting_with_date_hours_domains_and_trainers(app, client, login, demo):
    """Each attended meeting is one entry: titled by session, dated, clock hours, domains, instructors."""
    attend(demo.offering_id, demo.lcsw_id, 3, late={1: 30})  # meeting 2: 60 of 90 minutes
    login("lcsw@example.org")
    header, *body = rows(client, demo.offering_id)
    assert header == ["Date", "Training title", "Clock hours", "Competency domains", "Trainers", "Type"]
    entries = [r for r in body if r[5] == "Face-to-face session" and r[0]]
    meetings = meetings_of(demo.offering_id)[:3]
    assert len(entries) == 3
    for row, meeting, hours in zip(entries, meetings, ("1.50", "1.00", "1.50"), strict=True):
        session = meeting.session
        assert row[0] == meeting.start_dt.astimezone(TZ).date().isoformat()
        assert row[1] == f"{TITLE} — Session {session.number}: {session.title}"
        assert row[2] == hours
        assert row[3] == "; ".join(session.competencies) and row[3]
        assert row[4] == "Indira Instructor"
    assert ["", "Total face-to-face clock hours", "4.00", "", "", "Face-to-face session"] in body


def test_independent_learning_is_listed_separately_as_independent_study(app, client, login, demo):
    """Independent work is listed as its own independent-study entries, never in the face-to-face total."""
    attend(demo.offering_id, demo.lcsw_id, 1)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    offering = db.session.get(Offering, demo.offering_id)
    ledger = learner_ledger(offering, demo.lcsw_id, credit_policy(app.config))
    login("lcsw@example.org")
    _header, *body = rows(client, demo.offering_id)
    independent = [r for r in body if r[5] == "Independent study — not CE" and r[1].startswith(TITLE)]
    assert len(independent) == 11
    assert all(r[0] == "" and r[3] and r[4] == "" for r in independent)
    assert (
        independent[0][1]
        == f"{TITLE} — Session 1: {ledger.sessions[0].session.title} (readings, exercises and quiz)"
    )
    totals = {r[1]: r[2] for r in body if r[1].startswith("Total")}
    assert totals["Total face-to-face clock hours"] == "1.50"
    # Each entry is rounded down on its own and the total is the sum of the entries, so the log adds
    # up as printed; it can be a few hundredths below the ledger's total, never above it.
    independent_total = Decimal(totals["Total independent study hours — not eligible for CE"])
    assert independent_total == sum(Decimal(r[2]) for r in independent)
    assert Decimal(format_hours(ledger.independent_hours)) - Decimal("0.11") < independent_total
    assert independent_total <= ledger.independent_hours
    for row, session in zip(independent, ledger.sessions, strict=True):
        assert row[2] == format_hours(Decimal(session.independent_minutes * 100 // 60).scaleb(-2))


def test_meetings_not_attended_are_not_in_the_log(client, login, demo):
    """Absent, or signed in without a sign-out, is not an attended meeting."""
    (record,) = attend(demo.offering_id, demo.nurse_id, 1)
    record.departed_dt = None
    db.session.commit()
    login("nurse@example.org")
    _header, *body = rows(client, demo.offering_id)
    assert [r for r in body if r[0]] == []


def test_pdf_log_carries_the_same_entries(app, client, login, demo):
    """The PDF names the learner and lists the attended sessions with their hours and trainers."""
    attend(demo.offering_id, demo.lcsw_id, 2)
    login("lcsw@example.org")
    response = client.get(f"/learn/offerings/{demo.offering_id}/training-log.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = pdf_text(response.data)
    for expected in (
        "Endorsement Training Log",
        "Lena M. Social-Worker",
        app.config["IMH_PROVIDER_NAME"],
        "Indira Instructor",
        "Session 1:",
        "Session 2:",
        "Total face-to-face clock hours: 3.00",
        "Independent study — not eligible for CE",
    ):
        assert expected in text, expected
    assert "Session 3:" not in text


def test_each_learner_gets_only_their_own_log(client, login, demo):
    """The log is built for the signed-in learner only."""
    attend(demo.offering_id, demo.lcsw_id, 2)
    login("nurse@example.org")
    _header, *body = rows(client, demo.offering_id)
    assert [r for r in body if r[0]] == []
