"""Counts in CLI output and pages agree with their noun: "1 event", "2 events", never "event(s)"."""

from __future__ import annotations

from imh_course.extensions import db
from imh_course.models.audit_chain import Actor, record_event
from imh_course.security.roles import Role
from tests.integration.test_roster_import import HEADER, csv_bytes, upload


def _record(count: int) -> None:
    for n in range(count):
        record_event(Actor.system(), "test.event", "test", n)
    db.session.commit()


def test_audit_verify_counts_one_event_and_two_events(runner, app):  # noqa: ARG001
    _record(1)
    one = runner.invoke(args=["imh", "audit", "verify"])
    assert "Audit trail intact: 1 event verified." in one.output
    assert "(s)" not in one.output
    _record(1)
    two = runner.invoke(args=["imh", "audit", "verify"])
    assert "Audit trail intact: 2 events verified." in two.output


def test_reset_link_valid_for_one_hour_and_for_two(runner, make_user):
    make_user(Role.LEARNER, email="una@example.org")
    one = runner.invoke(args=["imh", "user", "reset-link", "--email", "una@example.org", "--hours", "1"])
    assert one.exit_code == 0, one.output
    assert "valid for 1 hour." in one.stderr
    two = runner.invoke(args=["imh", "user", "reset-link", "--email", "una@example.org", "--hours", "2"])
    assert "valid for 2 hours." in two.stderr


def test_roster_report_counts_one_learner_and_one_new_account(client, demo, login):
    login("coordinator@example.org")
    html = upload(client, demo.offering_id, csv_bytes(HEADER, "Ana Early,ana@example.org,,,,")).get_data(
        as_text=True
    )
    assert "1 learner enrolled (1 new account); 0 already enrolled" in html
