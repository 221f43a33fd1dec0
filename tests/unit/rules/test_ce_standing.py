"""What the face-to-face ledger is for a learner: CE contact hours, or clock hours that are not CE."""

from decimal import Decimal

import pytest

from imh_course.rules.ce_standing import (
    CE_LABEL,
    PROFILE_HINT,
    ce_standing,
    face_to_face,
)
from imh_course.rules.completion import CertificateKind
from imh_course.rules.credit import CreditPolicy
from imh_course.rules.licenses import LICENSE_TYPES, Approval, Board, certifiable_license_types

SW = Approval(Board.SOCIAL_WORK, "SW-0057", "Approved by the NYS State Board for Social Work ...")
MHC = Approval(Board.MENTAL_HEALTH, "MHC-0048", "Approved by the NYS State Board for Mental Health ...")
APPROVAL_SETS = ([], [SW], [MHC], [SW, MHC], [MHC, SW])


@pytest.mark.parametrize("approvals", APPROVAL_SETS)
@pytest.mark.parametrize("license_type", [*LICENSE_TYPES, None, "", "lcsw"])
def test_certifiable_exactly_when_an_approval_covers_the_licence(license_type, approvals):
    """The decision is the licence rule's (certifiable_license_types), for every licence and approval set,
    and the certificate kind follows it."""
    standing = ce_standing(license_type, approvals)
    assert standing.certifiable is (license_type in certifiable_license_types(approvals))
    assert standing.kind is (CertificateKind.CE if standing.certifiable else CertificateKind.COMPLETION)
    assert (standing.approval is not None) is standing.certifiable
    if standing.certifiable:
        assert license_type in {"LMSW", "LCSW", "LMHC", "LCAT", "LMFT", "LP"}
        assert (standing.label, standing.short_label, standing.hint) == (CE_LABEL, "CE hours", "")
    else:
        assert "CE contact hours" not in standing.label and "not CE" in standing.label
        assert standing.short_label == "Face-to-face hours (not CE)"
        assert standing.hint == PROFILE_HINT and "profile" in standing.hint


def test_a_covered_licensee_is_told_which_approval_covers_them():
    standing = ce_standing("LCSW", [SW, MHC])
    assert standing.approval == SW
    assert standing.reason == (
        "Your license (LCSW) is covered by this offering's approval from the NYS State Board for Social Work."
    )
    assert standing.minutes_label == "CE minutes credited"


def test_an_lcat_in_a_social_work_offering_is_told_what_the_approvals_cover():
    standing = ce_standing("LCAT", [SW])
    assert not standing.certifiable
    assert standing.label == "Face-to-face clock hours — not CE for your license (LCAT)"
    assert standing.reason == (
        "Your license on file is LCAT. This offering's approvals cover LCSW, LMSW "
        "(NYS State Board for Social Work)."
    )
    assert standing.minutes_label == "Minutes credited (not CE)"
    assert standing.staff_reason == (
        "License on file: LCAT. This offering's approvals cover LCSW, LMSW (NYS State Board for Social Work)."
    )


def test_a_nurse_in_an_offering_with_both_approvals_sees_both_boards():
    standing = ce_standing("RN", [MHC, SW])
    assert standing.label == "Face-to-face clock hours — not CE for your license (RN)"
    assert standing.reason == (
        "Your license on file is RN. This offering's approvals cover LCSW, LMSW (NYS State Board for Social "
        "Work); LCAT, LMFT, LMHC, LP (NYS State Board for Mental Health Practitioners)."
    )


@pytest.mark.parametrize("license_type", [None, "", "None"])
def test_no_licence_on_file_says_so(license_type):
    standing = ce_standing(license_type, [SW])
    assert standing.license_type is None
    assert standing.label == "Face-to-face clock hours — not CE (no license on file)"
    assert standing.reason.startswith("No license is on file for you. This offering's approvals cover LCSW")
    assert standing.staff_reason.startswith("No license on file. This offering's approvals cover LCSW")


def test_an_offering_without_approvals_certifies_no_one():
    standing = ce_standing("LCSW", [])
    assert not standing.certifiable
    assert standing.reason == "Your license on file is LCSW. This offering holds no CE board approval."


POLICY = CreditPolicy(minutes_per_hour=50)


def test_ce_totals_are_credited_minutes_under_the_credit_policy():
    """A licensee's total is CE hours: credited minutes at the policy's minutes per CE hour."""
    totals = face_to_face(
        ce_standing("LCSW", [SW]),
        credited_minutes=975,
        attended_minutes=985,
        scheduled_ce_minutes=990,
        scheduled_minutes=1080,
        policy=POLICY,
    )
    assert (totals.hours, totals.scheduled_hours) == (Decimal("19.50"), Decimal("19.80"))
    assert (totals.hours_text, totals.ce_hours_text, totals.label) == ("19.50", "19.50", "CE contact hours")


def test_not_ce_totals_are_clock_hours_attended_and_never_fill_a_ce_column():
    """Everyone else's total is clock hours attended (what their certificate of completion prints)."""
    totals = face_to_face(
        ce_standing("RN", [SW]),
        credited_minutes=975,
        attended_minutes=985,
        scheduled_ce_minutes=990,
        scheduled_minutes=1080,
        policy=POLICY,
    )
    assert (totals.hours_text, totals.scheduled_text) == ("16.41", "18.00")
    assert totals.ce_hours_text == ""
    assert totals.label.startswith("Face-to-face clock hours — not CE")
