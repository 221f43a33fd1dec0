"""Exports open cleanly: UTF-8 CSV with BOM and XLSX, formula triggers neutralised, downloads audited."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event, select

from imh_course.extensions import db
from imh_course.models import (
    AuditEvent,
    BoardApproval,
    CourseSession,
    DeliveryFormat,
    Funding,
    Meeting,
    Offering,
    ReadingCompletion,
    Term,
    User,
)
from imh_course.models.types import utcnow
from imh_course.rules.licenses import Board
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
    """The matrix export has attendance, credited minutes, readings, exercises and quiz for each of 11
    sessions, then face-to-face hours and CE hours in separate columns."""
    login("coordinator@example.org")
    rows = read_csv(client.get(f"/staff/offerings/{records.offering_id}/exports/completion-matrix.csv"))
    header = rows[0]
    assert header[5:10] == ["S1 attendance", "S1 minutes credited", "S1 readings", "S1 exercises", "S1 quiz"]
    assert "S11 quiz" in header and header[-2:] == ["Certificate ID", "Certificate status"]
    line = dict(zip(header, next(r for r in rows if r[1] == "lmhc@example.org"), strict=True))
    assert (line["S1 attendance"], line["S1 minutes credited"]) == ("present", "90")
    assert (line["S3 attendance"], line["S11 attendance"]) == ("no record", "")  # past / not yet held
    assert (line["Face-to-face hours"], line["CE hours"]) == ("3.00", "3.00")
    assert re.fullmatch(r"0/[1-9]", line["S1 readings"])
    # written for the coordinator who reads it, naming the learner, not "Attend 2 more sessions"
    assert line["Completion"].startswith(f"{line['Learner']} needs ") and "Attend" not in line["Completion"]


def test_funder_report_groups_by_funding_and_discipline(client, demo, login):
    """The funder report counts enrolments, completions and hours by funding type and discipline."""
    ids = enrol_many(
        demo.offering_id, 2, prefix="grant", funding=Funding.GRANT_FUNDED, discipline="Home visiting"
    )
    give_records(demo.offering_id, ids[0], attended=11)
    (nurse,) = enrol_many(
        demo.offering_id, 1, prefix="nurse", license_type="RN", license_number=None,
        funding=Funding.GRANT_FUNDED, discipline="Home visiting",
    )  # fmt: skip
    give_records(demo.offering_id, nurse, attended=11)
    login("coordinator@example.org")
    rows = read_csv(client.get(f"/staff/offerings/{demo.offering_id}/exports/funder-report.csv"))
    header = rows[0]
    table = {(r[0], r[1]): dict(zip(header, r, strict=True)) for r in rows[1:]}
    visiting = table[("Grant-funded", "Home visiting")]
    assert (visiting["Enrolments"], visiting["Completed the course"]) == ("3", "2")
    # The nurse's 16.50 face-to-face hours are delivered, but not CE: only the LCSW's count as CE.
    assert (
        visiting["CE hours credited"] == "16.50" and visiting["Face-to-face clock hours delivered"] == "33.00"
    )
    assert (
        table[("Grant-funded (subtotal)", "All disciplines")]["Enrolments"] == "4"
    )  # + the LMHC demo learner
    assert table[("Total", "All disciplines")]["Enrolments"] == "6"


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


def test_ce_roster_loads_independent_work_of_deciding_completion_learners_only(
    app, client, demo, completers, login, monkeypatch
):
    """The CE roster reads attendance and certificates, and independent work only for the learners whose
    certificate of completion turns on it (evaluated and attested): never a CE learner's."""
    from imh_course.reports import matrix_data

    give_records(demo.offering_id, demo.lcsw_id)  # a CE learner who did everything: not read
    calls: list[bool] = []
    loaded: list[dict[int, set[int]]] = []
    real, real_independent = matrix_data.load_facts, matrix_data.load_independent

    def spy(frames, policy, user_ids=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append(kwargs.get("with_independent", True))
        return real(frames, policy, user_ids, **kwargs)

    def spy_independent(facts, wanted):  # noqa: ANN001, ANN202
        loaded.append({oid: set(ids) for oid, ids in wanted.items()})
        return real_independent(facts, wanted)

    monkeypatch.setattr(matrix_data, "load_facts", spy)
    monkeypatch.setattr(matrix_data, "load_independent", spy_independent)
    login("coordinator@example.org")
    for url in (f"/staff/offerings/{demo.offering_id}/exports/ce-roster.csv", "/staff/exports/ce-roster.csv"):
        read_csv(client.get(url))
    assert len(calls) == 2 and not any(calls)
    emails = {
        uid: email
        for uid, email in db.session.execute(
            select(User.id, User.email).where(
                User.id.in_([uid for wanted in loaded for ids in wanted.values() for uid in ids])
            )
        )
    }
    other_id = db.session.scalar(select(Offering.id).where(Offering.year == 2030))
    named = [{oid: {emails[uid] for uid in ids} for oid, ids in wanted.items()} for wanted in loaded]
    nurse_and_unlicensed = {"nurse@example.org", completers.missing_reading}
    assert named == [
        {demo.offering_id: nurse_and_unlicensed},
        {demo.offering_id: nurse_and_unlicensed, other_id: {completers.counsellor}},
    ]


def _roster_statements(client) -> tuple[int, int]:  # noqa: ANN001
    """(statements, lines) of one download of the all-offerings CE roster."""
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


def _more_offerings(course_id: int, **learners: object) -> None:
    for year in (2040, 2041, 2042):
        offering = Offering(course_id=course_id, term=Term.FALL, year=year, format=DeliveryFormat.IN_PERSON)
        db.session.add(offering)
        db.session.flush()
        ids = enrol_many(offering.id, 4, prefix=f"y{year}x", **learners)
        if learners:  # evaluated and attested: their certificates of completion turn on their work
            for uid in ids:
                give_records(offering.id, uid)


def test_ce_roster_of_every_offering_takes_the_same_statements_for_more_offerings(app, client, demo, login):
    """The all-offerings roster reads every offering in the same statements (not ~11 per offering)."""
    login("coordinator@example.org")
    client.get("/staff/exports/ce-roster.csv").get_data()  # warm-up
    few, lines = _roster_statements(client)
    _more_offerings(db.session.get(Offering, demo.offering_id).course_id)
    many, more_lines = _roster_statements(client)
    assert more_lines == lines + 12
    assert many == few


def test_ce_roster_statements_do_not_grow_with_completion_learners(app, client, demo, completers, login):
    """Loading the independent work of certificate-of-completion learners takes a few statements per
    chunk, whatever the number of such learners and of their offerings."""
    login("coordinator@example.org")
    client.get("/staff/exports/ce-roster.csv").get_data()  # warm-up
    few, lines = _roster_statements(client)
    _more_offerings(
        db.session.get(Offering, demo.offering_id).course_id, license_type=None, license_number=None
    )
    many, more_lines = _roster_statements(client)
    assert more_lines == lines + 12
    assert many == few


# --- certificates of completion in the CE roster --------------------------------------------------------
def read_xlsx_rows(response) -> list[list[str]]:  # noqa: ANN001
    """The first sheet's rows as cell texts (shared, inline or plain strings and numbers), in order."""
    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    # The workbook is the app's own output, not untrusted XML.
    sheet = ElementTree.fromstring(parts["xl/worksheets/sheet1.xml"])  # noqa: S314
    strings = parts.get("xl/sharedStrings.xml")
    shared = ["".join(t.itertext()) for t in ElementTree.fromstring(strings)] if strings else []  # noqa: S314
    rows = []
    for row in sheet.iter(f"{main}row"):
        line: list[str] = []
        for cell in row.iter(f"{main}c"):
            column = 0
            for letter in re.match(r"[A-Z]+", cell.get("r", "A")).group():
                column = column * 26 + ord(letter) - ord("A") + 1
            line += [""] * (column - 1 - len(line))
            value = cell.find(f"{main}v")
            if cell.get("t") == "inlineStr":
                text = "".join(cell.find(f"{main}is").itertext())
            elif cell.get("t") == "s":
                text = shared[int(value.text)]
            else:
                text = value.text if value is not None and value.text is not None else ""
            line.append(text)
        rows.append(line)
    return rows


def _status_by_email(rows: list[list[str]]) -> dict[tuple[str, str], str]:
    """(offering label, email) -> the roster's "Certificate status"."""
    header = rows[0]
    offering, email, status = (header.index(h) for h in ("Offering", "Email", "Certificate status"))
    return {(r[offering], r[email]): r[status] for r in rows[1:]}


def _social_work_offering(course_id: int) -> Offering:
    """A finished offering approved by the social work board only: an LMHC's certificate is of completion."""
    offering = Offering(course_id=course_id, term=Term.SPRING, year=2030, format=DeliveryFormat.IN_PERSON)
    offering.approvals = [BoardApproval(board=Board.SOCIAL_WORK, provider_number="SW-0001", statement="Ok.")]
    db.session.add(offering)
    db.session.flush()
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course_id).order_by(CourseSession.number)
    ).all()
    first = utcnow().replace(microsecond=0) - timedelta(weeks=len(sessions) + 1)
    for i, session in enumerate(sessions):
        begin = first + timedelta(weeks=i)
        db.session.add(
            Meeting(
                offering_id=offering.id,
                session_id=session.id,
                start_dt=begin,
                end_dt=begin + timedelta(minutes=90),
            )
        )
    db.session.commit()
    return offering


@dataclass
class Completers:
    offering_label: str
    other_label: str
    missing_reading: str  # email
    counsellor: str  # email of the LMHC in the social-work-only offering


@pytest.fixture
def completers(demo) -> Completers:
    """Certificate-of-completion learners without a certificate yet, who did everything asked and
    submitted the evaluation and attested: the nurse (RN: no board covers it) and an LMHC in an
    offering approved by the social work board only. A learner with no licence did the same but for
    one reading."""
    give_records(demo.offering_id, demo.nurse_id)
    unlicensed = enrol_many(demo.offering_id, 1, prefix="unlicensed", license_type=None, license_number=None)
    give_records(demo.offering_id, unlicensed[0])
    skipped = db.session.scalars(
        select(ReadingCompletion)
        .where(ReadingCompletion.user_id == unlicensed[0])
        .order_by(ReadingCompletion.reading_key)
    ).first()
    db.session.delete(skipped)
    offering = db.session.get(Offering, demo.offering_id)
    other = _social_work_offering(offering.course_id)
    counsellor = enrol_many(other.id, 1, prefix="counsellor", license_type="LMHC", license_number="004322")
    give_records(other.id, counsellor[0])
    db.session.commit()
    return Completers(offering.label, other.label, "unlicensed0@example.org", "counsellor0@example.org")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_ce_roster_shows_an_eligible_certificate_of_completion(client, demo, completers, login, fmt):
    """A completion learner who met the completion policy (all quizzes passed, all readings done,
    enough meetings), evaluated and attested is "not issued (eligible)"; one reading short, "not issued"."""
    login("coordinator@example.org")
    read = read_csv if fmt == "csv" else read_xlsx_rows
    url = f"/staff/offerings/{demo.offering_id}/exports/ce-roster.{fmt}"
    mine = _status_by_email(read(client.get(url)))
    label = completers.offering_label
    assert mine[(label, "nurse@example.org")] == "not issued (eligible)"
    assert mine[(label, completers.missing_reading)] == "not issued"
    assert mine[(label, "lcsw@example.org")] == "not issued"  # a CE learner with no attendance

    every = _status_by_email(read(client.get(f"/staff/exports/ce-roster.{fmt}")))
    assert every[(label, "nurse@example.org")] == "not issued (eligible)"
    assert every[(label, completers.missing_reading)] == "not issued"
    assert every[(completers.other_label, completers.counsellor)] == "not issued (eligible)"
    assert {k: v for k, v in every.items() if k[0] == label} == mine


def test_ce_roster_rows_agree_with_the_completion_matrix(app, completers):
    """Every roster line equals the line made from the full matrix rows (independent work loaded)."""
    from imh_course.reports import exports_data
    from imh_course.reports.matrix_data import iter_offering_rows

    with app.test_request_context():
        offerings = db.session.scalars(select(Offering).order_by(Offering.id)).all()
        full = [
            exports_data.ce_roster_line(offering, frame, row)
            for offering, frame, row in iter_offering_rows(offerings)
        ]
        assert list(exports_data.ce_roster_rows(offerings)) == full
        assert sum(line[11] == "not issued (eligible)" for line in full) == 2
