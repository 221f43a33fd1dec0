"""The "reissue needed" rule: a certificate's snapshot against what a certificate issued now would say."""

from __future__ import annotations

from imh_course.rules.completion import CertificateKind
from imh_course.rules.licenses import Approval, Board
from imh_course.rules.staleness import CertifiedRecord, record_now, staleness

SW = Approval(Board.SOCIAL_WORK, "SW-0123", "Approved by the NYS State Board for Social Work.")


def ce(hours: str = "16.50", f2f: str = "16.50", number: str = "012345") -> CertifiedRecord:
    return record_now(
        CertificateKind.CE,
        SW,
        license_type="LCSW",
        license_number=number,
        ce_hours=hours,
        face_to_face_hours=f2f,
    )


def completion(f2f: str = "16.50") -> CertifiedRecord:
    return record_now(
        CertificateKind.COMPLETION,
        None,
        license_type="RN",
        license_number="9",
        ce_hours="16.50",
        face_to_face_hours=f2f,
    )


def test_unchanged_records_are_not_stale():
    result = staleness(ce(), ce())
    assert not result.stale and result.differences == () and result.summary == ""


def test_fewer_ce_hours_say_what_was_certified_and_what_the_records_say():
    result = staleness(ce(), ce("15.00", "15.00"))
    assert result.stale
    assert result.summary == "certified 16.50 CE hours; records now 15.00 — reissue needed"
    assert result.sentence.startswith("Certified 16.50 CE hours")
    assert [(d.field, d.certified, d.now) for d in result.differences] == [
        ("ce_hours", "16.50", "15.00"),
        ("face_to_face_hours", "16.50", "15.00"),
    ]
    assert result.differences[0].text == "CE contact hours: 16.50 → 15.00"


def test_a_certificate_of_completion_speaks_of_clock_hours_not_ce():
    result = staleness(completion(), completion("15.00"))
    assert (
        result.summary
        == "certified 16.50 face-to-face clock hours (not CE); records now 15.00 — reissue needed"
    )
    assert completion().ce_hours is None and completion().license_type is None  # nothing CE is printed


def test_a_changed_license_number_alone_is_named():
    result = staleness(ce(), ce(number="099999"))
    assert result.summary == "certified 16.50 CE hours; records now differ (license number) — reissue needed"


def test_a_license_the_approvals_no_longer_cover_changes_the_kind():
    result = staleness(ce(), completion())
    assert (
        "records now give a certificate of completion (16.50 face-to-face clock hours (not CE))"
        in result.summary
    )
    assert {d.field for d in result.differences} >= {"kind", "ce_hours", "license_type", "board_name"}


def test_a_stored_snapshot_round_trips_and_a_malformed_one_is_not_compared():
    stored = {**ce().__dict__, "kind": "ce", "learner_name": "Lena", "certificate_id": "x"}
    assert CertifiedRecord.from_facts(stored) == ce()
    assert CertifiedRecord.from_facts({}) is None
