"""Completion policy and certificate eligibility."""

from dataclasses import replace

import pytest

from imh_course.rules.completion import (
    CertificateKind,
    CompletionFacts,
    CompletionPolicy,
    CompletionStatus,
    certificate_eligibility,
    evaluate_completion,
)

DONE = CompletionFacts(
    meetings_total=11,
    meetings_credited=11,
    meetings_remaining=0,
    quizzes_total=5,
    quizzes_passed=5,
    readings_total=10,
    readings_done=10,
    evaluation_submitted=True,
)
COMPLETE = CompletionStatus(complete=True, missing=(), can_still_complete=True)
INCOMPLETE = CompletionStatus(False, ("Pass 1 quiz", "Submit the course evaluation"), True)


@pytest.mark.parametrize(
    ("changes", "missing", "can_still"),
    [
        ({}, (), True),
        ({"meetings_credited": 10}, (), True),
        ({"meetings_credited": 9}, ("Attend 1 more session (9 of 10 needed)",), False),
        ({"meetings_credited": 8}, ("Attend 2 more sessions (8 of 10 needed)",), False),
        (
            {"meetings_credited": 8, "meetings_remaining": 2},
            ("Attend 2 more sessions (8 of 10 needed)",),
            True,
        ),
        (
            {"meetings_credited": 7, "meetings_remaining": 2},
            ("Attend 3 more sessions (7 of 10 needed)",),
            False,
        ),
        (
            {"meetings_credited": 0, "meetings_remaining": 11},
            ("Attend 10 more sessions (0 of 10 needed)",),
            True,
        ),
        ({"quizzes_passed": 2}, ("Pass 3 quizzes",), True),
        ({"quizzes_passed": 4}, ("Pass 1 quiz",), True),
        ({"readings_done": 6}, ("Mark 4 readings complete",), True),
        ({"readings_done": 9}, ("Mark 1 reading complete",), True),
        ({"evaluation_submitted": False}, ("Submit the course evaluation",), True),
        ({"quizzes_total": 0, "quizzes_passed": 0, "readings_total": 0, "readings_done": 0}, (), True),
    ],
)
def test_default_policy_truth_table(changes, missing, can_still):
    """Default: 10 of 11 meetings, all quizzes and readings, evaluation; warn once 10 is out of reach."""
    status = evaluate_completion(replace(DONE, **changes))
    assert status == CompletionStatus(complete=not missing, missing=missing, can_still_complete=can_still)


def test_everything_missing_is_listed_in_a_stable_order():
    """The learner and coordinator see every missing step, meetings first."""
    facts = CompletionFacts(11, 3, 6, 5, 0, 10, 0, False)
    assert evaluate_completion(facts).missing == (
        "Attend 7 more sessions (3 of 10 needed)",
        "Pass 5 quizzes",
        "Mark 10 readings complete",
        "Submit the course evaluation",
    )


def test_policy_switches_drop_requirements():
    """A coordinator can relax the policy; relaxed requirements are neither checked nor listed."""
    facts = CompletionFacts(11, 6, 0, 5, 0, 10, 0, False)
    relaxed = CompletionPolicy(
        min_meetings=6, require_all_quizzes=False, require_all_readings=False, require_evaluation=False
    )
    assert evaluate_completion(facts, relaxed) == COMPLETE


def test_unreachable_minimum_is_flagged_even_for_a_short_schedule():
    """If the schedule has fewer meetings than the policy needs, the warning shows from the start."""
    status = evaluate_completion(CompletionFacts(8, 0, 8, 0, 0, 0, 0, True))
    assert not status.can_still_complete


@pytest.mark.parametrize(
    "changes",
    [
        {"meetings_credited": -1},
        {"meetings_remaining": 1},
        {"quizzes_passed": 6},
        {"readings_done": 11},
        {"quizzes_total": True},
    ],
)
def test_impossible_facts_are_rejected(changes):
    """Inconsistent counts are a caller bug and must not produce a completion verdict."""
    with pytest.raises(ValueError):
        replace(DONE, **changes)


@pytest.mark.parametrize("min_meetings", [-1, 2.5, True])
def test_policy_rejects_bad_minimum(min_meetings):
    """A misconfigured meeting minimum fails at construction."""
    with pytest.raises(ValueError):
        CompletionPolicy(min_meetings=min_meetings)


@pytest.mark.parametrize(
    ("kind", "ce", "completion", "evaluation", "attested", "reasons"),
    [
        (CertificateKind.CE, 990, COMPLETE, True, True, ()),
        (CertificateKind.CE, 15, INCOMPLETE, True, True, ()),
        (CertificateKind.CE, 0, COMPLETE, True, True, ("No CE-eligible attendance has been credited",)),
        (CertificateKind.CE, 990, COMPLETE, False, True, ("Submit the course evaluation",)),
        (
            CertificateKind.CE,
            0,
            COMPLETE,
            False,
            False,
            (
                "Submit the course evaluation",
                "Attest that your recorded attendance is accurate",
                "No CE-eligible attendance has been credited",
            ),
        ),
        (CertificateKind.COMPLETION, 0, COMPLETE, True, True, ()),
        (
            CertificateKind.COMPLETION,
            990,
            COMPLETE,
            True,
            False,
            ("Attest that your recorded attendance is accurate",),
        ),
        (
            CertificateKind.COMPLETION,
            990,
            INCOMPLETE,
            False,
            True,
            ("Submit the course evaluation", "Pass 1 quiz"),
        ),
        (
            CertificateKind.COMPLETION,
            990,
            CompletionStatus(False, (), False),
            True,
            True,
            ("Meet the course completion requirements",),
        ),
    ],
)
def test_certificate_eligibility(kind, ce, completion, evaluation, attested, reasons):
    """Both certificates need evaluation + attestation; CE needs credited minutes, completion the policy."""
    result = certificate_eligibility(
        kind, ce_minutes=ce, completion=completion, evaluation_submitted=evaluation, attested=attested
    )
    assert result.reasons == reasons
    assert result.eligible is (not reasons)


def test_certificate_eligibility_rejects_negative_minutes():
    """Negative CE minutes can only come from a bug."""
    with pytest.raises(ValueError):
        certificate_eligibility(
            CertificateKind.CE, ce_minutes=-15, completion=COMPLETE, evaluation_submitted=True, attested=True
        )


def test_certificate_eligibility_flags_are_keyword_only():
    """Three booleans in a row are too easy to swap, so they must be named."""
    with pytest.raises(TypeError):
        certificate_eligibility(CertificateKind.CE, 990, COMPLETE, True, True)  # type: ignore[misc]
