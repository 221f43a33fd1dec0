"""Quiz grading: all-or-nothing questions, feedback on every option, integer pass mark."""

import pytest

from imh_course.rules.grading import (
    OptionKey,
    QuestionKey,
    QuestionKind,
    attempts_left,
    grade,
)


def question(
    qid: str, kind: QuestionKind, correct: str, options: str = "abc", points: int = 1
) -> QuestionKey:
    """A question whose options are single letters; ``correct`` lists the correct letters."""
    opts = tuple(OptionKey(o, o in correct, f"why {o}") for o in options)
    return QuestionKey(qid, kind, opts, points)


SINGLE = question("s", QuestionKind.SINGLE, "b")
TRUE_FALSE = question("t", QuestionKind.TRUE_FALSE, "a", options="ab")
MULTIPLE = question("m", QuestionKind.MULTIPLE, "ac", options="abcd")


@pytest.mark.parametrize(
    ("key", "answer", "correct", "selected"),
    [
        (SINGLE, ["b"], True, {"b"}),
        (SINGLE, ["a"], False, {"a"}),
        (SINGLE, ["a", "b"], False, {"a", "b"}),
        (SINGLE, [], False, set()),
        (SINGLE, None, False, set()),
        (SINGLE, ["zzz"], False, set()),
        (SINGLE, ["b", "zzz"], True, {"b"}),
        (SINGLE, "b", True, {"b"}),
        (TRUE_FALSE, ["a"], True, {"a"}),
        (TRUE_FALSE, ["b"], False, {"b"}),
        (TRUE_FALSE, ["a", "b"], False, {"a", "b"}),
        (MULTIPLE, ["a", "c"], True, {"a", "c"}),
        (MULTIPLE, ("c", "a", "a"), True, {"a", "c"}),
        (MULTIPLE, ["a"], False, {"a"}),
        (MULTIPLE, ["a", "b", "c"], False, {"a", "b", "c"}),
        (MULTIPLE, ["a", "c", "x"], True, {"a", "c"}),
        (MULTIPLE, [], False, set()),
    ],
)
def test_question_truth_table(key, answer, correct, selected):
    """Single/true-false need exactly the correct option; multiple needs exactly the correct set."""
    answers = {} if answer is None else {key.id: answer}
    result = grade([key], answers).questions[0]
    assert (result.correct, result.selected) == (correct, frozenset(selected))
    assert result.points_awarded == (1 if correct else 0)


def test_feedback_covers_every_option_in_authored_order():
    """The learner sees why each option is right or wrong, even those not selected."""
    result = grade([MULTIPLE], {"m": ["a"]}).questions[0]
    assert result.feedback == (("a", "why a"), ("b", "why b"), ("c", "why c"), ("d", "why d"))


@pytest.mark.parametrize(
    ("right", "points", "max_points", "percent", "passed"),
    [
        ("abcde", 5, 5, 100, True),
        ("abcd", 4, 5, 80, True),
        ("abc", 3, 5, 60, False),
        ("", 0, 5, 0, False),
    ],
)
def test_score_and_default_pass_mark(right, points, max_points, percent, passed):
    """Default pass mark is 80 %: 4 of 5 passes, 3 of 5 does not."""
    keys = [question(q, QuestionKind.SINGLE, "a") for q in "abcde"]
    answers = {q: ["a" if q in right else "b"] for q in "abcde"}
    result = grade(keys, answers)
    assert (result.points, result.max_points, result.percent, result.passed) == (
        points,
        max_points,
        percent,
        passed,
    )


@pytest.mark.parametrize(("pass_mark", "passed"), [(66, True), (67, False), (0, True)])
def test_pass_mark_is_compared_exactly(pass_mark, passed):
    """2 of 3 is 66.7 %: shown as 66, passes a 66 % mark and fails a 67 % mark (no float rounding)."""
    keys = [question(q, QuestionKind.SINGLE, "a") for q in "xyz"]
    result = grade(keys, {"x": ["a"], "y": ["a"], "z": ["b"]}, pass_mark_percent=pass_mark)
    assert result.percent == 66
    assert result.passed is passed


def test_points_weight_questions():
    """A question worth more points counts more toward the score."""
    keys = [
        question("heavy", QuestionKind.SINGLE, "a", points=3),
        question("light", QuestionKind.SINGLE, "a"),
    ]
    result = grade(keys, {"heavy": ["a"], "light": ["b"]})
    assert (result.points, result.max_points, result.percent, result.passed) == (3, 4, 75, False)


def test_answers_to_unknown_questions_are_ignored():
    """Extra form fields cannot add points."""
    result = grade([SINGLE], {"s": ["b"], "other": ["a"]})
    assert (result.points, result.max_points, len(result.questions)) == (1, 1, 1)


@pytest.mark.parametrize(
    ("questions", "pass_mark"),
    [([], 80), ([SINGLE, SINGLE], 80), ([SINGLE], 101), ([SINGLE], -1), ([SINGLE], True)],
)
def test_grade_rejects_unusable_quizzes(questions, pass_mark):
    """An empty quiz, duplicate questions or an impossible pass mark cannot be graded."""
    with pytest.raises(ValueError):
        grade(questions, {}, pass_mark_percent=pass_mark)


@pytest.mark.parametrize(
    ("kind", "correct", "options", "points"),
    [
        (QuestionKind.SINGLE, "ab", "abc", 1),
        (QuestionKind.SINGLE, "", "abc", 1),
        (QuestionKind.TRUE_FALSE, "a", "abc", 1),
        (QuestionKind.TRUE_FALSE, "ab", "ab", 1),
        (QuestionKind.MULTIPLE, "", "abc", 1),
        (QuestionKind.SINGLE, "a", "aab", 1),
        (QuestionKind.SINGLE, "a", "abc", 0),
    ],
)
def test_answer_keys_must_be_winnable_and_unambiguous(kind, correct, options, points):
    """A key no answer can satisfy, or with ambiguous options, is rejected when built."""
    with pytest.raises(ValueError):
        question("q", kind, correct, options=options, points=points)


@pytest.mark.parametrize(
    ("max_attempts", "used", "left"),
    [(None, 0, None), (None, 99, None), (3, 0, 3), (3, 2, 1), (3, 3, 0), (3, 5, 0), (1, 0, 1)],
)
def test_attempts_left(max_attempts, used, left):
    """None means unlimited; otherwise remaining attempts never go below zero."""
    assert attempts_left(max_attempts, used) == left


@pytest.mark.parametrize(("max_attempts", "used"), [(0, 0), (-1, 0), (3, -1)])
def test_attempts_left_rejects_bad_counts(max_attempts, used):
    """A zero attempt limit or negative use count is a configuration or caller bug."""
    with pytest.raises(ValueError):
        attempts_left(max_attempts, used)
