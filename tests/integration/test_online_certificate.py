"""A live online offering's certificate: format "Live online", CE hours including a meeting credited
from its participant report (DOMAIN.md: certificate fields, format in person / live online)."""

from __future__ import annotations

from datetime import UTC, datetime

from imh_course.extensions import db
from imh_course.models import Offering
from imh_course.operations.participant_import import apply_import
from imh_course.records.ledgers import credit_policy
from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work, pdf_text
from tests.integration.participant_helpers import class_report, online_meeting
from tests.integration.test_attendance import actor
from tests.integration.test_certificates import certificates, issue_as_coordinator


def test_the_certificate_of_an_online_offering_says_live_online(app, client, login, demo):
    attend(demo.offering_id, demo.lcsw_id, 9)  # sessions 1-9 in full: 810 minutes
    meeting = online_meeting(
        demo.offering_id,
        10,
        datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 18, 30, tzinfo=UTC),
    )
    apply_import(
        actor("instructor@example.org"),
        meeting,
        class_report("12/02/2026"),
        "zoom.csv",
        credit_policy(app.config),
    )
    db.session.commit()
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    login("lcsw@example.org")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    assert issue_as_coordinator(client, login, demo, demo.lcsw_id).status_code == 302
    (certificate,) = certificates(demo.lcsw_id)
    assert certificate.facts["delivery_format"] == "Live online"
    text = pdf_text(certificate.pdf)
    offering = db.session.get(Offering, demo.offering_id)
    assert f"{offering.label} · " in text and " · Live online" in text
    assert "In person" not in text
    assert "CE contact hours: 14.75" in text  # 810 + 75 from the report (80 attended, 15-minute steps)
