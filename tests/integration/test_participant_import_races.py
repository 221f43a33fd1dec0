"""Twenty staff sessions apply the same participant report at once: one import wins, the rest are
told "already applied" (the pattern of test_view_races: own sessions, real CSRF tokens)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AttendanceEvidence, AuditEvent, ParticipantImport, ReportFile
from tests.integration.participant_helpers import class_report, online_meeting
from tests.integration.test_attendance import roster_url
from tests.integration.test_view_races import THREADS, TOKEN, _fresh, _race, _signed_in


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"WTF_CSRF_ENABLED": True}


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', page).group(1)


def test_twenty_concurrent_imports_of_one_report_apply_it_once(app, demo):
    meeting = online_meeting(demo.offering_id)
    base = roster_url(demo.offering_id, meeting.id)
    raw = class_report()
    emails = ["instructor@example.org", "coordinator@example.org"]
    clients = [_signed_in(app, emails[i % 2]) for i in range(THREADS)]
    forms = []
    for c in clients:
        token = TOKEN.search(_fresh(c.get(f"{base}/report")).get_data(as_text=True)).group(1)
        data = {"csrf_token": token, "file": (io.BytesIO(raw), "zoom.csv")}
        page = _fresh(c.post(f"{base}/report", data=data, content_type="multipart/form-data"))
        text = page.get_data(as_text=True)
        assert page.status_code == 200, text
        keys = dict(re.findall(r'name="key-(\d+)" value="([^"]+)"', text))
        forms.append(
            {
                "csrf_token": _hidden(text, "csrf_token"),
                "report": _hidden(text, "report"),
                "file_name": _hidden(text, "file_name"),
                "action": "apply",
                **{f"key-{i}": k for i, k in keys.items()},
            }
        )

    def post(i: int) -> Callable[[], tuple[int, str]]:
        def run() -> tuple[int, str]:
            response = clients[i].post(f"{base}/report/review", data=forms[i])
            with clients[i].session_transaction() as session:
                flashes = " ".join(m for _c, m in session.get("_flashes", []))
            return response.status_code, flashes

        return run

    results = _race([post(i) for i in range(THREADS)])
    assert [status for status, _ in results] == [302] * THREADS
    applied = [m for _s, m in results if m.startswith("Applied zoom.csv")]
    already = [m for _s, m in results if "already applied" in m]
    assert len(applied) == 1 and len(already) == THREADS - 1, results
    assert len(db.session.scalars(select(ParticipantImport)).all()) == 1
    assert len(db.session.scalars(select(ReportFile)).all()) == 1
    evidence = db.session.scalars(
        select(AttendanceEvidence).where(AttendanceEvidence.report_import_id.is_not(None))
    ).all()
    assert len(evidence) == 2  # LCSW and LMHC, once each
    imports = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "attendance.report_import")
    ).all()
    assert len(imports) == 1
