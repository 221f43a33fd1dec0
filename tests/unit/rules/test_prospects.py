"""Honest prospects: what a learner will actually receive, given their licence and their record."""

import pytest

from imh_course.rules.ce_standing import ce_standing, face_to_face
from imh_course.rules.completion import CompletionStatus
from imh_course.rules.credit import CreditPolicy
from imh_course.rules.licenses import Approval, Board
from imh_course.rules.prospects import prospects

SW = Approval(Board.SOCIAL_WORK, "SW-0057", "Approved by the NYS State Board for Social Work ...")
OUT_OF_REACH = CompletionStatus(complete=False, missing=("Attend 9 more sessions",), can_still_complete=False)
WITHIN_REACH = CompletionStatus(complete=False, missing=("Attend 1 more session",), can_still_complete=True)
COMPLETE = CompletionStatus(complete=True, missing=(), can_still_complete=True)


def run(license_type, *, credited, attended=None, done, remaining, completion, min_meetings=10):  # noqa: ANN001, ANN202
    standing = ce_standing(license_type, [SW])
    attended = credited if attended is None else attended
    totals = face_to_face(
        standing,
        credited_minutes=credited,
        attended_minutes=attended,
        scheduled_ce_minutes=990,
        scheduled_minutes=990,
        policy=CreditPolicy(),
    )
    return prospects(
        standing,
        totals,
        credited_minutes=credited,
        meetings_credited=done,
        meetings_total=11,
        meetings_remaining=remaining,
        completion=completion,
        min_meetings=min_meetings,
    )


def test_licensee_with_nothing_credited_and_nothing_left_gets_no_ce_certificate():
    """Defect 2 of issue 13: not "you will receive a CE certificate", and nothing to attest."""
    p = run("LCSW", credited=0, done=0, remaining=0, completion=OUT_OF_REACH)
    assert p.receive == "No CE hours have been credited and no meetings remain: no CE certificate."
    assert not p.ok and not p.can_attest
    assert p.alert is None  # "does not depend on completion" would be a false comfort here
    assert "CE certificate will" not in p.possible


def test_licensee_with_nothing_credited_yet_is_told_what_is_still_possible():
    p = run("LCSW", credited=0, done=0, remaining=3, completion=OUT_OF_REACH)
    assert (
        p.receive.startswith("No CE hours have been credited yet.")
        and "3 sessions still to come" in p.receive
    )
    assert p.ok and not p.can_attest


def test_licensee_who_cannot_complete_is_told_it_does_not_affect_their_ce_certificate():
    p = run("LCSW", credited=180, done=2, remaining=1, completion=OUT_OF_REACH)
    assert p.receive.startswith("You will receive a CE certificate")
    assert p.alert == (
        "The completion requirements can no longer be met: a certificate of completion needs 10 of 11 "
        "sessions. That does not affect your CE certificate: it will list the CE contact hours you attend."
    )
    assert p.so_far == "So far: 3.00 CE contact hours from 2 of 11 sessions."
    assert p.can_attest


def test_the_completion_numbers_come_from_the_policy():
    p = run("LCSW", credited=180, done=2, remaining=0, completion=OUT_OF_REACH, min_meetings=8)
    assert "needs 8 of 11 sessions" in p.alert
    assert p.possible == "No sessions remain. Your CE certificate will list 3.00 CE contact hours."


@pytest.mark.parametrize("license_type", ["RN", "LCAT", None])
def test_others_are_promised_a_certificate_of_completion_never_ce(license_type):
    p = run(license_type, credited=600, attended=640, done=10, remaining=1, completion=WITHIN_REACH)
    assert p.receive.startswith("You will receive a certificate of completion (not CE)")
    assert p.so_far == "So far: 10.66 face-to-face clock hours (not CE) from 10 of 11 sessions."
    assert "CE contact hours" not in p.so_far + p.possible + p.receive
    assert p.ok and p.can_attest and p.alert is None


def test_others_who_can_no_longer_complete_get_no_certificate_and_an_alert():
    p = run("RN", credited=180, done=2, remaining=0, completion=OUT_OF_REACH)
    assert p.receive == "No certificate: the completion requirements can no longer be met."
    assert not p.ok
    assert "needs 10 of 11 sessions, you have attended 2 and 0 remain" in p.alert


def test_others_with_nothing_credited_have_nothing_to_attest_unless_the_policy_needs_no_meetings():
    assert not run("RN", credited=0, done=0, remaining=5, completion=WITHIN_REACH).can_attest
    assert run("RN", credited=0, done=0, remaining=0, completion=COMPLETE, min_meetings=0).can_attest
