"""Licence types, board approvals and number formats (New York)."""

import pytest

from imh_course.rules.licenses import (
    BOARD_LABELS,
    BOARD_LICENSES,
    LICENSE_TYPES,
    Approval,
    Board,
    approval_for,
    certifiable_license_types,
    validate_license_number,
    validate_provider_number,
)

SW = Approval(Board.SOCIAL_WORK, "SW-0057", "Approved by the NYS State Board for Social Work ...")
MHC = Approval(Board.MENTAL_HEALTH, "MHC-0048", "Approved by the NYS State Board for Mental Health ...")


def test_boards_govern_the_documented_licences():
    """Social work covers LMSW/LCSW; mental health covers LMHC, LCAT, LMFT and LP."""
    assert BOARD_LICENSES[Board.SOCIAL_WORK] == {"LMSW", "LCSW"}
    assert BOARD_LICENSES[Board.MENTAL_HEALTH] == {"LMHC", "LCAT", "LMFT", "LP"}
    assert BOARD_LABELS == {
        Board.SOCIAL_WORK: "NYS State Board for Social Work",
        Board.MENTAL_HEALTH: "NYS State Board for Mental Health Practitioners",
    }


def test_board_licences_cannot_be_changed_at_runtime():
    """The licence table is a constant; a stray assignment must not widen CE eligibility."""
    with pytest.raises(TypeError):
        BOARD_LICENSES[Board.SOCIAL_WORK] = frozenset({"RN"})  # type: ignore[index]


def test_license_choices_list_eligible_types_first():
    """Learners pick from every CE licence first, then RN, Other and None."""
    eligible = set().union(*BOARD_LICENSES.values())
    assert LICENSE_TYPES == ("LMSW", "LCSW", "LMHC", "LCAT", "LMFT", "LP", "RN", "Other", "None")
    assert set(LICENSE_TYPES[: len(eligible)]) == eligible


@pytest.mark.parametrize(
    ("approvals", "expected"),
    [
        ([], set()),
        ([SW], {"LMSW", "LCSW"}),
        ([MHC], {"LMHC", "LCAT", "LMFT", "LP"}),
        ([SW, MHC], {"LMSW", "LCSW", "LMHC", "LCAT", "LMFT", "LP"}),
    ],
)
def test_certifiable_types_follow_the_offerings_approvals(approvals, expected):
    """Only licences governed by a board that approved this offering can get a CE certificate."""
    assert certifiable_license_types(approvals) == frozenset(expected)


@pytest.mark.parametrize(
    ("license_type", "approvals", "expected"),
    [
        ("LCSW", [SW, MHC], SW),
        ("LMSW", [MHC, SW], SW),
        ("LMFT", [SW, MHC], MHC),
        ("LMHC", [SW], None),
        ("LCSW", [], None),
        ("RN", [SW, MHC], None),
        ("Other", [SW, MHC], None),
        ("None", [SW, MHC], None),
        (None, [SW, MHC], None),
        ("lcsw", [SW], None),
    ],
)
def test_approval_for_licence(license_type, approvals, expected):
    """A licensee gets the approval of their own board; everyone else gets completion only."""
    assert approval_for(license_type, approvals) == expected


@pytest.mark.parametrize(
    ("board", "number", "ok"),
    [
        (Board.SOCIAL_WORK, "SW-0057", True),
        (Board.SOCIAL_WORK, "SW-57", False),
        (Board.SOCIAL_WORK, "SW-00570", False),
        (Board.SOCIAL_WORK, "sw-0057", False),
        (Board.SOCIAL_WORK, "SW-0057\n", False),
        (Board.SOCIAL_WORK, " SW-0057", False),
        (Board.SOCIAL_WORK, "MHC-0048", False),
        (Board.MENTAL_HEALTH, "MHC-0048", True),
        (Board.MENTAL_HEALTH, "SW-0057", False),
        (Board.MENTAL_HEALTH, "MHC-٠٠٤٨", False),
        (Board.MENTAL_HEALTH, "", False),
    ],
)
def test_provider_number_format(board, number, ok):
    """Provider numbers must match their board's printed form exactly (SW-0057, MHC-0048)."""
    error = validate_provider_number(board, number)
    assert (error is None) == ok
    if not ok:
        assert ("SW-0057" if board is Board.SOCIAL_WORK else "MHC-0048") in error


@pytest.mark.parametrize(
    ("license_type", "number", "ok"),
    [
        ("LMSW", "012345", True),
        ("LCAT", "000001", True),
        ("LCSW", "12345", False),
        ("LCSW", "1234567", False),
        ("LMHC", "01234a", False),
        ("LMHC", " 012345", False),
        ("LMHC", "012345 ", False),
        ("LP", "٠١٢٣٤٥", False),
        ("LMSW", "", False),
        ("RN", "", True),
        ("RN", "123456", True),
        ("RN", "12-345", False),
        ("Other", "", True),
        ("Other", "PA-12345", True),
        ("None", "", True),
        ("None", "123456", False),
        ("Psychologist", "123456", False),
    ],
)
def test_license_number_format(license_type, number, ok):
    """NY licence numbers are 6 ASCII digits; CE licences need one; nothing is silently fixed."""
    assert (validate_license_number(license_type, number) is None) == ok


def test_missing_licence_number_message_names_the_licence():
    """The learner is told which number is missing, in plain words."""
    assert validate_license_number("LCSW", "") == "Enter your 6-digit New York LCSW license number."


def test_no_license_is_named_in_words_not_as_a_code():
    from imh_course.rules.licenses import license_label

    labels = [license_label(v) for v in ("None", "", None, "LCSW")]
    assert labels == ["No license", "No license", "No license", "LCSW"]
