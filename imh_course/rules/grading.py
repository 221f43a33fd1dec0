"""Quiz grading: all-or-nothing per question, with feedback on every option.

Answer keys stay on the server; this module turns a learner's selections into a result. Passed
quizzes count toward independent learning and completion, never toward CE.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class QuestionKind(StrEnum):
    """Question shapes: one answer, select-all-that-apply, or true/false."""

    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


@dataclass(frozen=True)
class OptionKey:
    """One option with whether it is correct and why (shown to the learner after grading)."""

    id: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class QuestionKey:
    """A question's answer key; rejects keys that no answer could satisfy or that are ambiguous."""

    id: str
    kind: QuestionKind
    options: tuple[OptionKey, ...]
    points: int = 1

    def __post_init__(self) -> None:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError(f"question {self.id}: duplicate option ids")
        if isinstance(self.points, bool) or not isinstance(self.points, int) or self.points < 1:
            raise ValueError(f"question {self.id}: points must be a positive integer")
        n_correct = sum(o.correct for o in self.options)
        if self.kind is QuestionKind.TRUE_FALSE and len(self.options) != 2:
            raise ValueError(f"question {self.id}: true/false needs exactly two options")
        if self.kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and n_correct != 1:
            raise ValueError(f"question {self.id}: needs exactly one correct option")
        # An empty selection counts as unanswered, so a MULTIPLE with no correct option is unwinnable.
        if self.kind is QuestionKind.MULTIPLE and n_correct < 1:
            raise ValueError(f"question {self.id}: needs at least one correct option")

    @property
    def correct_ids(self) -> frozenset[str]:
        """Ids of the correct options."""
        return frozenset(o.id for o in self.options if o.correct)


@dataclass(frozen=True)
class QuestionResult:
    """Outcome of one question; ``feedback`` covers every option so the learner sees why."""

    question_id: str
    correct: bool
    selected: frozenset[str]
    points_awarded: int
    feedback: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class GradeResult:
    """Outcome of one attempt; ``percent`` is floored so 79.9 % never displays as 80 %."""

    points: int
    max_points: int
    percent: int
    passed: bool
    questions: tuple[QuestionResult, ...]


def _selection(raw: Iterable[str] | None, known: frozenset[str]) -> frozenset[str]:
    if raw is None:
        return frozenset()
    # A bare string is one option id, not an iterable of one-letter ids.
    chosen = {raw} if isinstance(raw, str) else set(raw)
    return frozenset(chosen & known)


def _is_correct(question: QuestionKey, selected: frozenset[str]) -> bool:
    if question.kind is QuestionKind.MULTIPLE:
        return selected == question.correct_ids
    return len(selected) == 1 and selected == question.correct_ids


def grade(
    questions: Sequence[QuestionKey], answers: Mapping[str, Iterable[str]], pass_mark_percent: int = 80
) -> GradeResult:
    """Grade an attempt: each question all-or-nothing; passed iff points/max >= pass mark.

    Unknown option ids are ignored (as if not selected), answers to unknown questions are ignored,
    and an unanswered question is wrong. The pass test uses integers so there is no float edge.
    """
    if not questions:
        raise ValueError("cannot grade a quiz with no questions")
    if len({q.id for q in questions}) != len(questions):
        raise ValueError("duplicate question ids")
    if isinstance(pass_mark_percent, bool) or not 0 <= pass_mark_percent <= 100:
        raise ValueError(f"pass_mark_percent must be between 0 and 100, got {pass_mark_percent!r}")
    results: list[QuestionResult] = []
    for question in questions:
        selected = _selection(answers.get(question.id), frozenset(o.id for o in question.options))
        correct = _is_correct(question, selected)
        results.append(
            QuestionResult(
                question_id=question.id,
                correct=correct,
                selected=selected,
                points_awarded=question.points if correct else 0,
                feedback=tuple((o.id, o.feedback) for o in question.options),
            )
        )
    points = sum(r.points_awarded for r in results)
    max_points = sum(q.points for q in questions)
    return GradeResult(
        points=points,
        max_points=max_points,
        percent=points * 100 // max_points,
        passed=points * 100 >= pass_mark_percent * max_points,
        questions=tuple(results),
    )


def attempts_left(max_attempts: int | None, used: int) -> int | None:
    """Attempts remaining (never negative); None means unlimited attempts."""
    if used < 0:
        raise ValueError("used attempts must not be negative")
    if max_attempts is None:
        return None
    if max_attempts < 1:
        raise ValueError("max_attempts must be positive or None")
    return max(max_attempts - used, 0)
