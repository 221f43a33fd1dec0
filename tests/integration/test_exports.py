"""Exports open cleanly: UTF-8 CSV with BOM and XLSX, formula triggers neutralised, downloads audited."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from imh_course.extensions import db
from imh_course.models import AuditEvent, DeliveryFormat, Funding, Offering, Term, User
from tests.integration.coordinator_helpers import enrol_many, give_records, meetings_of

EVIL = '=HYPERLINK("http://evil.example","Click")'


def read_csv(response) -> list[list[str]]:  # noqa: ANN001
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def read_xlsx(response) -> list[str]:  # noqa: ANN001
    """Every cell text of the first sheet, read from the sheet XML (and shared strings, if any)."""
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
        shared = (
            archive.read("xl/sharedStrings.xml").decode("utf-8")
            if "xl/sharedStrings.xml" in archive.namelist()
            else ""
        )
    assert "<f>" not in sheet and "<f " not in sheet, "no cell may be a formula"
    texts = re.findall(r"<t[^>]*>([^<]*)</t>", sheet + shared)
    numbers = re.findall(r"<v>([^<]*)</v>", sheet)
    return texts + numbers


@pytest.fixture
def records(demo):
    """The LCSW attended 3 sessions and has a formula-looking name; the LMHC attended 2."""
    give_records(demo.offering_id, demo.lcsw_id, attended=3)
    give_records(demo.offering_id, demo.lmhc_id, attended=2, work=False)
    lcsw = db.session.get(User, demo.lcsw_id)
    lcsw.profile.certificate_name = EVIL
    db.session.commit()
    return demo


def test_ce_roster_csv_for_the_board_audit(client, records, login):
    """The CE roster lists license, CE hours and dates attended; a formula-looking name is neutralised."""
    login("coordinator@example.org")
    response = client.get(f"/staff/offerings/{records.offering_id}/exports/ce-roster.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'filename="imh-ce-roster-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    header, body = rows[0], rows[1:]
    assert header[:7] == [
        "Offering",
        "Learner",
        "Email",
        "License type",
        "License number",
        "Certificate type",
        "CE hours",
    ]
    by_email = {r[2]: dict(zip(header, r, strict=True)) for r in body}
    lcsw = by_email["lcsw@example.org"]
    assert lcsw["Learner"] == "'" + EVIL
    assert (lcsw["License type"], lcsw["License number"], lcsw["CE hours"]) == ("LCSW", "012345", "4.50")
    zone = ZoneInfo("America/New_York")
    dates = [m.start_dt.astimezone(zone).date().isoformat() for m in meetings_of(records.offering_id)[:3]]
    assert lcsw["Meeting dates attended"] == "; ".join(dates)
    assert lcsw["Certificate status"] == "not issued (eligible)"  # CE minutes > 0, evaluated, attested
    nurse = by_email["nurse@example.org"]
    assert nurse["Certificate type"] == "Completion (not CE)" and nurse["CE hours"] == ""
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)


def test_ce_roster_xlsx_has_no_formulas(client, records, login):
    """The XLSX opens cleanly: the neutralised name is text, no cell is a formula."""
    login("coordinator@example.org")
    response = client.get(f"/staff/offerings/{records.offering_id}/exports/ce-roster.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    cells = read_xlsx(response)
    assert "CE hours" in cells and "lcsw@example.org" in cells
    assert any(c.startswith("&apos;=HYPERLINK") or c.startswith("'=HYPERLINK") for c in cells)
    assert not any(c.startswith("=") for c in cells)


def test_every_download_is_an_audit_event(client, records, login):
    """Each export download records export.download with the report and the format."""
    login("coordinator@example.org")
    base = f"/staff/offerings/{records.offering_id}/exports"
    for path in ("ce-roster.csv", "ce-roster.xlsx", "completion-matrix.csv", "funder-report.xlsx"):
        response = client.get(f"{base}/{path}")
        assert response.status_code == 200
        response.get_data()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "export.download").order_by(AuditEvent.id)
    ).all()
    assert [(e.after["report"], e.after["format"]) for e in events] == [
        ("ce_roster", "csv"),
        ("ce_roster", "xlsx"),
        ("completion_matrix", "csv"),
        ("funder_report", "xlsx"),
    ]
    assert {e.actor_id for e in events} == {records.coordinator_id}
    assert {e.offering_id for e in events} == {records.offering_id}


def test_completion_matrix_export_has_five_columns_per_session(client, records, login):
    """The matrix export has attendance, CE minutes, readings, exercises and quiz for each of 11 sessions."""
    login("coordinator@example.org")
    rows = read_csv(client.get(f"/staff/offerings/{records.offering_id}/exports/completion-matrix.csv"))
    header = rows[0]
    assert header[5:10] == ["S1 attendance", "S1 CE minutes", "S1 readings", "S1 exercises", "S1 quiz"]
    assert "S11 quiz" in header and header[-2:] == ["Certificate ID", "Certificate status"]
    line = dict(zip(header, next(r for r in rows if r[1] == "lmhc@example.org"), strict=True))
    assert (line["S1 attendance"], line["S1 CE minutes"]) == ("present", "90")
    assert (line["S3 attendance"], line["S11 attendance"]) == ("no record", "")  # past / not yet held
    assert line["CE hours"] == "3.00" and re.fullmatch(r"0/[1-9]", line["S1 readings"])


def test_funder_report_groups_by_funding_and_discipline(client, demo, login):
    """The funder report counts enrolments, completions and hours by funding type and discipline."""
    ids = enrol_many(
        demo.offering_id, 2, prefix="grant", funding=Funding.GRANT_FUNDED, discipline="Home visiting"
    )
    give_records(demo.offering_id, ids[0], attended=11)
    login("coordinator@example.org")
    rows = read_csv(client.get(f"/staff/offerings/{demo.offering_id}/exports/funder-report.csv"))
    header = rows[0]
    table = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    visiting = table[("Grant-funded", "Home visiting")]
    assert (visiting["Enrolments"], visiting["Completed the course"]) == ("2", "1")
    assert (
        visiting["CE hours credited"] == "16.50" and visiting["Face-to-face clock hours delivered"] == "16.50"
    )
    assert (
        table[("Grant-funded (subtotal)", "All disciplines")]["Enrolments"] == "3"
    )  # + the LMHC demo learner
    assert table[("Total", "All disciplines")]["Enrolments"] == "5"


def test_ce_roster_of_every_offering_streams(client, records, login):
    """The all-offerings CE roster is a streamed CSV with one line per enrolment."""
    login("coordinator@example.org")
    response = client.get("/staff/exports/ce-roster.csv")
    assert response.is_streamed
    rows = read_csv(response)
    assert len(rows) == 1 + 3
    assert client.get("/staff/exports/ce-roster.xlsx").status_code == 200


def test_large_csv_exports_stream_in_chunks(app, client, demo, login, monkeypatch):
    """Rows are produced chunk by chunk (yield_per), so the CSV starts before every learner is loaded."""
    from imh_course.reports import matrix_data

    enrol_many(demo.offering_id, 7)
    chunks: list[int] = []
    real = matrix_data.load_facts

    def spy(frames, policy, user_ids=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        chunks.append(len(user_ids))
        return real(frames, policy, user_ids, **kwargs)

    monkeypatch.setattr(matrix_data, "load_facts", spy)
    monkeypatch.setattr(matrix_data, "EXPORT_CHUNK", 4)
    login("coordinator@example.org")
    response = client.get(f"/staff/offerings/{demo.offering_id}/exports/ce-roster.csv")
    assert response.is_streamed
    assert chunks == []  # nothing loaded before the body is read
    rows = read_csv(response)
    assert len(rows) == 1 + 10
    assert chunks == [4, 4, 2]


def test_unknown_format_is_404_and_instructors_cannot_export(client, demo, login):
    """Only csv and xlsx exist; instructors and learners cannot download exports."""
    login("coordinator@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}/exports/ce-roster.pdf").status_code == 404
    assert client.get(f"/staff/offerings/{demo.offering_id}/exports").status_code == 200
    client.post("/logout")
    login("instructor@example.org")
    assert client.get(f"/staff/offerings/{demo.offering_id}/exports/ce-roster.csv").status_code == 403
    assert client.get("/staff/exports/ce-roster.csv").status_code == 403


def test_ce_roster_does_not_load_independent_learning(app, client, demo, login, monkeypatch):
    """The CE roster reads attendance and certificates only: independent work never feeds it."""
    from imh_course.reports import matrix_data

    calls: list[bool] = []
    real = matrix_data.load_facts

    def spy(frames, policy, user_ids=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(kwargs.get("with_independent", True))
        return real(frames, policy, user_ids, **kwargs)

    monkeypatch.setattr(matrix_data, "load_facts", spy)
    login("coordinator@example.org")
    for url in (f"/staff/offerings/{demo.offering_id}/exports/ce-roster.csv", "/staff/exports/ce-roster.csv"):
        read_csv(client.get(url))
    assert len(calls) == 2 and not any(calls)


def test_ce_roster_of_every_offering_takes_the_same_statements_for_more_offerings(app, client, demo, login):
    """The all-offerings roster reads every offering in the same statements (not ~11 per offering)."""

    def statements() -> tuple[int, int]:
        seen: list[str] = []

        def listener(*_args: object) -> None:
            seen.append("")

        db.session.remove()
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            rows = read_csv(client.get("/staff/exports/ce-roster.csv"))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen), len(rows)

    login("coordinator@example.org")
    client.get("/staff/exports/ce-roster.csv").get_data()  # warm-up
    few, lines = statements()
    course_id = db.session.get(Offering, demo.offering_id).course_id
    for year in (2040, 2041, 2042):
        offering = Offering(course_id=course_id, term=Term.FALL, year=year, format=DeliveryFormat.IN_PERSON)
        db.session.add(offering)
        db.session.flush()
        enrol_many(offering.id, 4, prefix=f"y{year}x")
    many, more_lines = statements()
    assert more_lines == lines + 12
    assert many == few
