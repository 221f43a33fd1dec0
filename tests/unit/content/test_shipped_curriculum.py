"""The shipped curriculum (readings/ and quizzes/) meets the course's content rules.

These tests read the real content files through the loader, so they fail as soon as an author
breaks a rule: session count and length, the independent-learning time budget, competency
coverage, answer keys, citations and the crude copy guards on reading summaries.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from imh_course.content.loader import ContentError, load_catalog
from imh_course.content.schema import COMPETENCY_DOMAINS, QuestionKind

REPO_ROOT = Path(__file__).resolve().parents[3]

SESSION_COUNT = 11
FACE_TO_FACE_MINUTES = 90
SESSION_MINUTES = (20, 45)  # independent learning per session: readings + exercises + quiz
TOTAL_MINUTES = (330, 390)  # about 6 hours of independent learning in all
MAX_READING_WORDS = 700
MAX_QUOTED_WORDS = 35
PRIVACY_SENTENCE = re.compile(r"private unless you choose to share it with (your|the) instructor", re.I)
QUOTED = re.compile(r"\"([^\"]+)\"|“([^”]+)”")


@pytest.fixture(scope="module")
def catalog():
    try:
        return load_catalog(REPO_ROOT)
    except ContentError as exc:  # show every problem, not just the first
        pytest.fail(str(exc))


def independent_minutes(session) -> int:
    readings = sum(r.meta.estimated_minutes for r in session.readings)
    exercises = sum(e.estimated_minutes for e in session.manifest.exercises)
    quiz = session.quiz.estimated_minutes if session.quiz is not None else 0
    return readings + exercises + quiz


def all_readings(catalog):
    return [reading for session in catalog.sessions for reading in session.readings]


def test_eleven_sessions_of_ninety_minutes(catalog):
    """Exactly 11 sessions numbered 1..11, each 90 face-to-face minutes (990 in all)."""
    assert [s.manifest.number for s in catalog.sessions] == list(range(1, SESSION_COUNT + 1))
    assert [s.manifest.id for s in catalog.sessions] == [f"session-{n:02d}" for n in range(1, 12)]
    assert all(s.manifest.face_to_face_minutes == FACE_TO_FACE_MINUTES for s in catalog.sessions)
    assert sum(s.manifest.face_to_face_minutes for s in catalog.sessions) == 990


def test_three_to_five_objectives_per_session(catalog):
    """Every session states 3 to 5 learning objectives."""
    for session in catalog.sessions:
        assert 3 <= len(session.manifest.objectives) <= 5, session.manifest.id


def test_one_to_three_readings_per_session(catalog):
    """Every session assigns 1 to 3 readings."""
    for session in catalog.sessions:
        assert 1 <= len(session.readings) <= 3, session.manifest.id


def test_every_session_has_an_exercise_with_the_privacy_sentence(catalog):
    """Every session has at least one exercise, and each tells learners the response is private."""
    for session in catalog.sessions:
        assert session.manifest.exercises, session.manifest.id
        for exercise in session.manifest.exercises:
            text = re.sub(r"\s+", " ", exercise.instructions)
            assert PRIVACY_SENTENCE.search(text), f"{session.manifest.id}/{exercise.id}"


def test_every_session_has_a_quiz_and_kinds_are_mixed(catalog):
    """Every session has a quiz of at least 5 questions; the curriculum uses all question kinds."""
    kinds = set()
    for session in catalog.sessions:
        assert session.quiz is not None, session.manifest.id
        assert len(session.quiz.questions) >= 5, session.quiz.id
        kinds |= {q.kind for q in session.quiz.questions}
    assert kinds == set(QuestionKind)


def test_every_citation_is_complete(catalog):
    """Every reading cites its work with authors, year, title and venue."""
    for reading in all_readings(catalog):
        citation = reading.meta.citation
        assert citation.authors and all(a.strip() for a in citation.authors), reading.meta.id
        assert citation.year.strip(), reading.meta.id
        assert citation.title.strip(), reading.meta.id
        assert citation.venue.strip(), reading.meta.id


def test_independent_learning_time_budget(catalog):
    """Readings + exercises + quiz take 20-45 minutes per session and 330-390 minutes in total."""
    low, high = SESSION_MINUTES
    for session in catalog.sessions:
        assert low <= independent_minutes(session) <= high, session.manifest.id
    total = sum(independent_minutes(s) for s in catalog.sessions)
    assert TOTAL_MINUTES[0] <= total <= TOTAL_MINUTES[1], total


def test_all_eight_competency_domains_are_covered(catalog):
    """Every one of the eight official competency domains is covered by at least one session."""
    covered = {domain for s in catalog.sessions for domain in s.manifest.competencies}
    assert covered == set(COMPETENCY_DOMAINS)


def test_answer_keys_and_feedback(catalog):
    """Single-choice and true/false questions have exactly one correct option; every option has feedback."""
    for session in catalog.sessions:
        for question in session.quiz.questions:
            where = f"{session.quiz.id}/{question.id}"
            correct = [o for o in question.options if o.correct]
            if question.kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE):
                assert len(correct) == 1, where
            else:
                assert correct, where
            if question.kind is QuestionKind.TRUE_FALSE:
                assert [(o.id, o.text) for o in question.options] == [("t", "True"), ("f", "False")], where
            for option in question.options:
                assert option.feedback.strip(), f"{where}/{option.id}"


def test_reading_summaries_are_short(catalog):
    """No reading summary is longer than 700 words."""
    for reading in all_readings(catalog):
        words = len(reading.body.split())
        assert words <= MAX_READING_WORDS, f"{reading.meta.id}: {words} words"


def test_no_long_quotations_in_readings(catalog):
    """No reading summary quotes more than about 35 words inside quotation marks (a crude copy guard)."""
    for reading in all_readings(catalog):
        for match in QUOTED.finditer(reading.body):
            quoted = match.group(1) or match.group(2)
            assert len(quoted.split()) <= MAX_QUOTED_WORDS, f"{reading.meta.id}: {quoted[:60]}…"
