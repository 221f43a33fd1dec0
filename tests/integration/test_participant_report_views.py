"""The participant report pages: upload → match → preview → apply, errors, and where the evidence shows."""

from __future__ import annotations

import base64
import hashlib
import io
import re

import pytest

from imh_course.models import AttendanceMethod, ParticipantImport
from tests.integration.participant_helpers import class_report, online_meeting
from tests.integration.test_attendance import count, record_of, roster_url


@pytest.fixture
def meeting(demo):
    return online_meeting(demo.offering_id)


def _upload(client, demo, meeting, raw: bytes, name: str = "participants_8123456789.csv"):
    url = f"{roster_url(demo.offering_id, meeting.id)}/report"
    return client.post(url, data={"file": (io.BytesIO(raw), name)}, content_type="multipart/form-data")


def _review_url(demo, meeting) -> str:
    return f"{roster_url(demo.offering_id, meeting.id)}/report/review"


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def _keys(page: str) -> dict[str, str]:
    """Matching screen: participant name → its row index."""
    found = {}
    for index, key in re.findall(r'name="key-(\d+)" value="([^"]+)"', page):
        found[key] = index
    return found


def test_the_roster_of_an_online_meeting_offers_the_upload(client, demo, login, meeting):
    login("instructor@example.org")
    page = client.get(roster_url(demo.offering_id, meeting.id)).get_data(as_text=True)
    assert "Upload a participant report" in page
    assert 'enctype="multipart/form-data"' in page


def test_upload_match_preview_apply(client, demo, login, meeting):
    login("instructor@example.org")
    raw = class_report()
    response = _upload(client, demo, meeting, raw)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Match the remaining names" in page
    assert "read as a <strong>Zoom</strong> report" in page
    assert "name: “Name (original name)”" in page  # the columns found
    assert "Galaxy S22" in page and "Visitor" in page and "Ines Instructor" not in page
    assert count(ParticipantImport) == 0
    keys = _keys(page)
    phone = keys["name:galaxy s22"]
    form = {
        "report": _hidden(page, "report"),
        "file_name": _hidden(page, "file_name"),
        "action": "preview",
        **{f"key-{i}": k for k, i in keys.items()},
        f"match-{phone}": str(demo.nurse_id),
        f"remember-{phone}": "y",
    }
    preview = client.post(_review_url(demo, meeting), data=form)
    text = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Preview: what the report changes" in text
    row = re.search(rf'<tr id="preview-{demo.lcsw_id}">(.*?)</tr>', text, re.S).group(1)
    assert "11:55 AM–12:40 PM EST" in row and "12:50–1:31 PM EST" in row
    assert "<td>80</td>" in row and "<td>75</td>" in row and "New mark" in row
    nurse = re.search(rf'<tr id="preview-{demo.nurse_id}">(.*?)</tr>', text, re.S).group(1)
    assert "matched by you" in nurse and "<td>75</td>" in nurse
    assert "Ines Instructor" in text  # staff: ignored and shown
    assert count(ParticipantImport) == 0  # the preview wrote nothing
    applied = client.post(_review_url(demo, meeting), data=form | {"action": "apply"})
    assert applied.status_code == 302
    assert record_of(meeting.id, demo.nurse_id).method is AttendanceMethod.VIDEO_REPORT
    roster = client.get(applied.location).get_data(as_text=True)
    assert "Applied participants_8123456789.csv: 3 new marks, 0 corrections, 0 unchanged." in roster
    assert "1 name remembered for later meetings." in roster
    sha = hashlib.sha256(raw).hexdigest()
    assert sha[:12] in roster and "video platform report" in roster
    again = client.post(_review_url(demo, meeting), data=form | {"action": "apply"})
    assert "already applied" in client.get(again.location).get_data(as_text=True)
    assert count(ParticipantImport) == 1


def test_drilldown_shows_the_report_evidence(client, demo, login, meeting):
    login("coordinator@example.org")
    page = _upload(client, demo, meeting, class_report()).get_data(as_text=True)
    form = {
        "report": _hidden(page, "report"),
        "file_name": _hidden(page, "file_name"),
        "action": "apply",
        **{f"key-{i}": k for k, i in _keys(page).items()},
    }
    assert client.post(_review_url(demo, meeting), data=form).status_code == 302
    drill = client.get(f"/staff/offerings/{demo.offering_id}/learners/{demo.lcsw_id}").get_data(as_text=True)
    assert "by video platform report" in drill
    assert "participants_8123456789.csv" in drill
    assert "in the meeting 12:00 PM–12:40 PM, 12:50 PM–1:30 PM → 80 min attended, 75 credited" in drill


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"Learner,Score\nAna,10\n", "No participants table found"),
        (class_report("11/24/2026"), "This report is from another meeting"),
        (b"x" * 2_001, "larger than 0.002 MB"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_changes_nothing(
    client, demo, login, meeting, raw, message, monkeypatch
):
    """(The size limit is lowered for the test: a 1 MB upload would spool to a temporary file.)"""
    monkeypatch.setattr("imh_course.views.participant_reports.MAX_BYTES", 2_000)
    login("instructor@example.org")
    response = _upload(client, demo, meeting, raw)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(ParticipantImport) == 0


def test_a_tampered_or_missing_report_field_is_a_clear_400(client, demo, login, meeting):
    login("instructor@example.org")
    bad = client.post(_review_url(demo, meeting), data={"report": "%%%not-base64", "action": "apply"})
    assert bad.status_code == 400
    assert "upload it again" in bad.get_data(as_text=True)
    empty = client.post(_review_url(demo, meeting), data={"action": "apply"})
    assert empty.status_code == 400
    other = base64.b64encode(b"Learner,Score\n").decode()
    unreadable = client.post(_review_url(demo, meeting), data={"report": other, "action": "preview"})
    assert unreadable.status_code == 400 and "cannot be read" in unreadable.get_data(as_text=True)
    assert count(ParticipantImport) == 0


def test_the_ce_roster_names_the_report_behind_the_attendance(app, client, demo, login, meeting):
    from imh_course.operations.participant_import import apply_import
    from imh_course.records.ledgers import credit_policy
    from tests.integration.test_attendance import actor
    from tests.integration.test_exports import read_csv

    raw = class_report()
    apply_import(actor("instructor@example.org"), meeting, raw, "zoom.csv", credit_policy(app.config))
    from imh_course.extensions import db

    db.session.commit()
    login("coordinator@example.org")
    rows = read_csv(client.get(f"/staff/offerings/{demo.offering_id}/exports/ce-roster.csv"))
    header, body = rows[0], rows[1:]
    assert header[-1] == "Video platform reports"
    by_email = {line[header.index("Email")]: line for line in body}
    sha = hashlib.sha256(raw).hexdigest()
    assert by_email["lcsw@example.org"][-1] == f"2026-12-01: zoom.csv, SHA-256 {sha}"
    assert by_email["nurse@example.org"][-1] == ""


@pytest.mark.parametrize("value", ["²", str(2**31), "-1", "12a"])
def test_a_hostile_learner_choice_is_a_message_not_a_500(client, demo, login, meeting, value):
    login("instructor@example.org")
    page = _upload(client, demo, meeting, class_report()).get_data(as_text=True)
    form = {
        "report": _hidden(page, "report"),
        "file_name": _hidden(page, "file_name"),
        "action": "preview",
        "key-0": "name:galaxy s22",
        "match-0": value,
    }
    response = client.post(_review_url(demo, meeting), data=form)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a learner from the list" in page
    assert "Match the remaining names" in page  # back on the matching screen, nothing written


def test_changing_saved_marks_asks_for_the_reason_on_the_preview(client, demo, login, meeting):
    from imh_course.extensions import db
    from imh_course.models import User
    from imh_course.operations.attendance import mark
    from imh_course.rules.credit import AttendanceStatus
    from tests.integration.test_attendance import actor

    mark(
        actor("instructor@example.org"),
        meeting,
        db.session.get(User, demo.lcsw_id),
        AttendanceStatus.PRESENT,
        None,
        None,
    )
    db.session.commit()
    login("instructor@example.org")
    page = _upload(client, demo, meeting, class_report()).get_data(as_text=True)
    form = {
        "report": _hidden(page, "report"),
        "file_name": _hidden(page, "file_name"),
        "action": "apply",
        **{f"key-{i}": k for k, i in _keys(page).items()},
    }
    refused = client.post(_review_url(demo, meeting), data=form)
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "1 of these learners already had a mark that the report changes: give a reason" in text
    assert "Reason for changing saved marks" in text and "Correction</strong>: Left early" in text
    assert count(ParticipantImport) == 0
    applied = client.post(_review_url(demo, meeting), data=form | {"reason": "Zoom shows 10 minutes away"})
    assert applied.status_code == 302
    assert "1 correction" in client.get(applied.location).get_data(as_text=True)
