"""The course evaluation (anonymous answers, one per learner) and the attendance attestation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, inspect, select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceRecord,
    Attestation,
    AuditEvent,
    Enrolment,
    EnrolmentStatus,
    EvaluationAnswer,
    EvaluationReceipt,
    Offering,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.operations.evaluation import EvaluationError, submit_evaluation
from imh_course.security.roles import Role
from tests.integration.certificate_helpers import attend, attest, ce_minutes, evaluate

pytestmark = pytest.mark.usefixtures("demo")


def count(model) -> int:  # noqa: ANN001
    return db.session.scalar(select(func.count()).select_from(model))


def test_submitting_the_evaluation_keeps_answers_apart_from_names(client, login, demo):
    """The answers are stored with no link to the learner; a separate receipt records who took part."""
    login("lcsw@example.org")
    response = evaluate(client, demo.offering_id, comments="  Loved the reflective exercises.  ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/learn/offerings/{demo.offering_id}/certificates")
    (receipt,) = db.session.scalars(select(EvaluationReceipt)).all()
    (answer,) = db.session.scalars(select(EvaluationAnswer)).all()
    assert receipt.user_id == demo.lcsw_id
    assert answer.ratings == {"objectives_met": 5, "instructors": 4, "relevance": 5}
    assert answer.comments == "Loved the reflective exercises."
    columns = {c.key for c in inspect(EvaluationAnswer).columns}
    assert not columns & {"user_id", "receipt_id", "submitted_dt"}
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "evaluation.submit")).all()
    assert event.learner_id == demo.lcsw_id and event.after is None and event.before is None
    page = client.get(f"/learn/offerings/{demo.offering_id}/evaluation").get_data(as_text=True)
    assert "You have submitted the evaluation" in page and "<form" not in page.split("<main", 1)[1]


def test_the_evaluation_is_submitted_once(client, login, demo):
    """A second submission (another tab, a retry) stores nothing more."""
    login("lcsw@example.org")
    evaluate(client, demo.offering_id)
    again = evaluate(client, demo.offering_id, comments="second try")
    assert again.status_code == 302
    assert (count(EvaluationReceipt), count(EvaluationAnswer)) == (1, 1)
    offering = db.session.get(Offering, demo.offering_id)
    actor = Actor(user=db.session.get(User, demo.lcsw_id), role="learner")
    assert (
        submit_evaluation(actor, offering, {"objectives_met": 1, "instructors": 1, "relevance": 1}, "")
        is False
    )
    assert (count(EvaluationReceipt), count(EvaluationAnswer)) == (1, 1)


def test_every_rating_is_required_and_checked(client, login, demo):
    """Missing or out-of-range ratings are refused with a message; nothing is stored."""
    login("lcsw@example.org")
    url = f"/learn/offerings/{demo.offering_id}/evaluation"
    response = client.post(url, data={"objectives_met": "5", "instructors": "9"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose a rating." in page and 'aria-describedby="relevance-error"' in page
    assert client.post(url, data={"objectives_met": "5", "instructors": "4", "relevance": "5",
                                  "comments": "x" * 5001}).status_code == 400  # fmt: skip
    assert (count(EvaluationReceipt), count(EvaluationAnswer)) == (0, 0)
    offering = db.session.get(Offering, demo.offering_id)
    actor = Actor(user=db.session.get(User, demo.lcsw_id), role="learner")
    with pytest.raises(EvaluationError):
        submit_evaluation(actor, offering, {"objectives_met": 6, "instructors": 1, "relevance": 1}, None)
    with pytest.raises(EvaluationError):
        submit_evaluation(actor, offering, {"objectives_met": 5}, None)


def test_withdrawn_learner_cannot_submit(client, login, demo):
    """A withdrawn enrolment is read-only: the evaluation and the attestation are refused."""
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == demo.lcsw_id))
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()
    login("lcsw@example.org")
    assert evaluate(client, demo.offering_id).status_code == 403
    assert (
        client.post(
            f"/learn/offerings/{demo.offering_id}/attest", data={"confirm": "y", "ce_minutes": "0"}
        ).status_code
        == 403
    )
    assert count(EvaluationReceipt) == 0 and count(Attestation) == 0


def _three_evaluations(client, login) -> None:  # noqa: ANN001
    offering_id = db.session.scalar(select(Offering.id))
    for email, ratings, comment in (
        (
            "lcsw@example.org",
            {"objectives_met": "5", "instructors": "5", "relevance": "4"},
            "Zebra-striped handouts",
        ),
        ("lmhc@example.org", {"objectives_met": "4", "instructors": "5", "relevance": "4"}, ""),
        (
            "nurse@example.org",
            {"objectives_met": "4", "instructors": "3", "relevance": "5"},
            "attachment videos <b>x</b>",
        ),
    ):
        login(email)
        assert client.post(f"/learn/offerings/{offering_id}/evaluation",
                           data={**ratings, "comments": comment}).status_code == 302  # fmt: skip


def test_summary_is_hidden_below_three_responses(client, login, demo):
    """With fewer than three answers the coordinator sees only the count, nothing that could identify."""
    login("lcsw@example.org")
    evaluate(client, demo.offering_id, comments="Only mine")
    login("coordinator@example.org")
    page = client.get(f"/staff/offerings/{demo.offering_id}/evaluations").get_data(as_text=True)
    assert "1 of 3 enrolled learners has answered" in page
    assert "at least 3" in page and "Only mine" not in page


def test_summary_shows_averages_counts_and_unattributed_comments(client, login, demo):
    """From three answers: average and distribution per rating, comments alphabetical, no names."""
    _three_evaluations(client, login)
    login("coordinator@example.org")
    page = client.get(f"/staff/offerings/{demo.offering_id}/evaluations").get_data(as_text=True)
    assert "3 of 3 enrolled learners have answered" in page
    assert "<td>4.3</td><td>1</td><td>2</td><td>0</td><td>0</td><td>0</td>" in page  # objectives: 5,4,4
    assert "<td>4.3</td><td>2</td><td>0</td><td>1</td><td>0</td><td>0</td>" in page  # instructors: 5,5,3
    assert "Comments (2)" in page
    assert page.index("attachment videos") < page.index("Zebra-striped handouts")  # alphabetical
    assert "&lt;b&gt;x&lt;/b&gt;" in page  # comments are text, never markup
    main = page.split("<main", 1)[1]
    for name in ("Lena", "Marco", "Nia", "lcsw@", "Social-Worker"):
        assert name not in main


def test_summary_is_for_coordinators(client, login, demo):
    """Learners and instructors cannot read the evaluation summary; coordinators reach it."""
    for email in ("lcsw@example.org", "instructor@example.org"):
        login(email)
        assert client.get(f"/staff/offerings/{demo.offering_id}/evaluations").status_code == 403
    login("coordinator@example.org")
    assert f"/staff/offerings/{demo.offering_id}/evaluations" in client.get(
        f"/staff/offerings/{demo.offering_id}"
    ).get_data(as_text=True)


def test_attestation_records_the_statement_and_ce_minutes_shown(app, client, login, demo):
    """The learner sees their CE hours, attests, and the exact statement and minutes are recorded."""
    attend(demo.offering_id, demo.lcsw_id, 3, late={0: 20})  # 60 + 90 + 90 credited
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    assert "4.00" in page and 'name="ce_minutes" type="hidden" value="240"' in page
    assert "4.00 CE contact hours (240 credited minutes) from 3 face-to-face sessions" in page
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    (row,) = db.session.scalars(select(Attestation)).all()
    assert row.ce_minutes_shown == 240 and row.user_id == demo.lcsw_id
    assert "4.00 CE contact hours (240 credited minutes) from 3 face-to-face sessions" in row.statement
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attestation.create")).all()
    assert event.after["ce_minutes_shown"] == 240 and event.learner_id == demo.lcsw_id
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    assert "You attested on" in page


def test_attestation_for_a_completion_certificate_does_not_call_it_ce(app, client, login, demo):
    """The nurse attests face-to-face attendance in clock hours attended (what her certificate of
    completion prints: 70 + 90 minutes, not the 60 + 90 credited), stated as not CE credit."""
    attend(demo.offering_id, demo.nurse_id, 2, late={0: 20})
    login("nurse@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    attest(client, app, demo.offering_id, demo.nurse_id)
    (row,) = db.session.scalars(select(Attestation)).all()
    said = (
        "2 face-to-face sessions attended, 2.66 face-to-face clock hours (160 minutes attended), "
        "not CE credit"
    )
    assert said in row.statement and said in page
    assert "CE contact hours" not in row.statement


@pytest.mark.parametrize("email", ["lcsw@example.org", "nurse@example.org"])
def test_zero_credited_minutes_cannot_be_attested(app, client, login, demo, email):
    """With nothing credited the page offers no attestation, and posting one anyway is refused."""
    login(email)
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    assert "nothing to attest" in page and 'name="confirm"' not in page
    response = client.post(
        f"/learn/offerings/{demo.offering_id}/attest", data={"confirm": "y", "ce_minutes": "0"}
    )
    assert response.status_code == 302
    assert "nothing to attest" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert count(Attestation) == 0


def test_attesting_needs_the_checkbox(client, login, demo):
    """Without ticking the box nothing is recorded and the error sits next to the checkbox."""
    attend(demo.offering_id, demo.lcsw_id, 1)
    login("lcsw@example.org")
    response = client.post(f"/learn/offerings/{demo.offering_id}/attest", data={"ce_minutes": "90"})
    assert response.status_code == 400
    assert 'id="confirm-error"' in response.get_data(as_text=True)
    assert count(Attestation) == 0


def test_attendance_changed_while_the_page_was_open_is_refused(app, client, login, demo):
    """If the CE minutes changed since the page was shown, the attestation is refused."""
    login("lcsw@example.org")
    response = client.post(
        f"/learn/offerings/{demo.offering_id}/attest", data={"confirm": "y", "ce_minutes": "990"}
    )
    assert response.status_code == 302
    assert "changed while the page was open" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert count(Attestation) == 0


def test_a_later_attendance_change_requires_a_new_attestation(app, client, login, demo):
    """After a correction the old attestation no longer counts; attesting again renews it (audited)."""
    attend(demo.offering_id, demo.lcsw_id, 2)
    login("lcsw@example.org")
    evaluate(client, demo.offering_id)
    attest(client, app, demo.offering_id, demo.lcsw_id)
    record = db.session.scalars(select(AttendanceRecord)).first()
    record.departed_dt = record.arrived_dt + timedelta(minutes=45)  # left half-way
    db.session.commit()
    page = client.get(f"/learn/offerings/{demo.offering_id}/certificates").get_data(as_text=True)
    assert "changed after you attested (180 credited minutes then, 135 now)" in page
    assert "review it and attest again" in page
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    (row,) = db.session.scalars(select(Attestation)).all()
    db.session.refresh(row)
    assert row.ce_minutes_shown == 135 == ce_minutes(app, demo.offering_id, demo.lcsw_id)
    (event,) = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attestation.renew")).all()
    assert (event.before["ce_minutes_shown"], event.after["ce_minutes_shown"]) == (180, 135)


def test_learner_pages_need_an_enrolment(client, login, make_user, demo):
    """Someone not enrolled gets 404 on the evaluation, status and training log pages."""
    make_user(Role.LEARNER, email="outsider@example.org")
    login("outsider@example.org")
    for suffix in ("evaluation", "certificates", "training-log.csv", "training-log.pdf"):
        assert client.get(f"/learn/offerings/{demo.offering_id}/{suffix}").status_code == 404, suffix
