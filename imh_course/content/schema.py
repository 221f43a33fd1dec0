"""Strict models of the authored content files.

Every file the agency edits by hand (session manifests, reading files, quiz files and the public
course description) is validated against these models before anything reaches the database.
`extra="forbid"` catches typos in keys, `strict=True` catches YAML's surprises (``no`` becoming
False, ``011`` becoming 9) because a wrong type is an error rather than a silent coercion.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..rules.text import joined, noun_for

#: The eight official NYS-AIMH Endorsement competency domains (names only; the guideline text is
#: copyrighted and never reproduced).
COMPETENCY_DOMAINS: tuple[str, ...] = (
    "Theoretical Foundations",
    "Law, Regulation & Agency Policy",
    "Systems Expertise",
    "Direct Service Skills",
    "Working with Others",
    "Communicating",
    "Thinking",
    "Reflection",
)

#: Stable identifiers: lower-case words joined by hyphens, e.g. ``s01-ghosts-in-the-nursery``.
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_ID_RE = re.compile(ID_PATTERN)

StableId = Annotated[str, Field(pattern=ID_PATTERN, min_length=2, max_length=80)]
ShortText = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=20_000)]
Minutes = Annotated[int, Field(ge=1, le=600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, str_strip_whitespace=True)


class Citation(_Strict):
    """A full reference: only works that can be cited correctly (DOMAIN.md lists a safe set)."""

    authors: list[ShortText] = Field(min_length=1)
    year: ShortText  # a string so "1969/1982" and "2005" are both allowed
    title: ShortText
    venue: ShortText  # journal with volume(issue), pages; or publisher
    kind: str = Field(default="article", pattern=r"^(article|book|chapter|report|web)$")

    @field_validator("year")
    @classmethod
    def _year_has_digits(cls, value: str) -> str:
        if not re.match(r"^\d{4}(/\d{4})?[a-z]?$", value):
            raise ValueError("year must look like 2005 or 1969/1982")
        return value


class ReadingMeta(_Strict):
    """The YAML front matter of a reading file; the Markdown body is the summary."""

    id: StableId
    title: ShortText
    estimated_minutes: Minutes
    citation: Citation
    key_concepts: list[ShortText] = Field(min_length=1, max_length=12)
    guiding_questions: list[ShortText] = Field(min_length=2, max_length=4)


class ExerciseKind(StrEnum):
    REFLECTIVE = "reflective"
    APPLIED = "applied"


class ExerciseSpec(_Strict):
    """A learning exercise, authored inside the session manifest. Instructions are Markdown."""

    id: StableId
    title: ShortText
    kind: Annotated[ExerciseKind, Field(strict=False)]  # YAML gives a string; the enum checks it
    estimated_minutes: Minutes
    instructions: LongText


class SessionManifest(_Strict):
    """``readings/session-NN/session.yaml``: one of the 11 course sessions."""

    id: StableId
    number: int = Field(ge=1, le=50)
    title: ShortText
    face_to_face_minutes: int = Field(ge=1, le=600)
    objectives: list[ShortText] = Field(min_length=1, max_length=8)
    competencies: list[str] = Field(min_length=1)
    readings: list[StableId] = Field(default_factory=list)  # reading ids, in the order shown
    exercises: list[ExerciseSpec] = Field(default_factory=list)
    quiz: StableId | None = None  # id of the quiz file for this session

    @field_validator("competencies")
    @classmethod
    def _known_domains(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in COMPETENCY_DOMAINS]
        if unknown:
            raise ValueError(
                f"unknown competency {noun_for(len(unknown), 'domain')} {joined(repr(u) for u in unknown)}; "
                "use the official names: " + "; ".join(COMPETENCY_DOMAINS)
            )
        if len(set(value)) != len(value):
            raise ValueError("a competency domain is listed twice")
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> SessionManifest:
        ids = [e.id for e in self.exercises]
        if len(set(ids)) != len(ids):
            raise ValueError("exercise ids must be unique within a session")
        if len(set(self.readings)) != len(self.readings):
            raise ValueError("a reading is listed twice")
        return self


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"


class OptionSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9]{1,12}$")]
    text: ShortText
    correct: bool
    feedback: Annotated[str, Field(min_length=1, max_length=2_000)]


class QuestionSpec(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
    kind: Annotated[QuestionKind, Field(strict=False)]
    prompt: Annotated[str, Field(min_length=1, max_length=2_000)]
    options: list[OptionSpec] = Field(min_length=2, max_length=8)
    points: int = Field(default=1, ge=1, le=10)

    @model_validator(mode="after")
    def _answer_key_consistent(self) -> QuestionSpec:
        ids = [o.id for o in self.options]
        if len(set(ids)) != len(ids):
            raise ValueError("option ids must be unique within a question")
        correct = sum(1 for o in self.options if o.correct)
        if self.kind in (QuestionKind.SINGLE, QuestionKind.TRUE_FALSE) and correct != 1:
            kind = "single-choice" if self.kind is QuestionKind.SINGLE else "true/false"
            marked = "none is marked correct" if correct == 0 else f"{correct} are marked correct"
            raise ValueError(f"a {kind} question needs exactly one correct option; {marked}")
        if self.kind is QuestionKind.MULTIPLE and correct < 1:
            raise ValueError("a multiple-select question needs at least one correct option")
        if self.kind is QuestionKind.TRUE_FALSE and len(self.options) != 2:
            raise ValueError("a true/false question has exactly two options")
        return self


class QuizSpec(_Strict):
    """``quizzes/session-NN.yaml``: a short quiz; the answer key never leaves the server."""

    id: StableId
    session: int = Field(ge=1, le=50)  # the session number this quiz belongs to
    title: ShortText
    estimated_minutes: Minutes
    pass_mark: int = Field(default=80, ge=1, le=100)  # percent
    max_attempts: int | None = Field(default=3, ge=1, le=20)  # None = unlimited
    questions: list[QuestionSpec] = Field(min_length=1, max_length=50)

    @model_validator(mode="after")
    def _unique_question_ids(self) -> QuizSpec:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique within a quiz")
        return self


class Quote(_Strict):
    text: LongText
    source: ShortText


class CourseDescription(_Strict):
    """``readings/course.yaml``: the agency's description of the course for the public page.

    Kept in a content file, not a template, so the agency can edit it without a developer.
    Text fields are Markdown.
    """

    id: StableId
    title: ShortText
    provider: ShortText
    summary: LongText
    objectives: list[ShortText] = Field(min_length=1)
    rationale: LongText
    tenets_source: ShortText
    tenets: list[ShortText] = Field(min_length=1)
    additional_guidepost: ShortText
    definition: Quote
    participants: LongText
    disciplines: list[ShortText] = Field(min_length=1)
    schedule: LongText
    ce_note: LongText
    ce_licenses: list[ShortText] = Field(min_length=1)
    competencies_intro: ShortText
    cost: LongText
    contact_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]

    @staticmethod
    def is_stable_id(value: str) -> bool:
        return bool(_ID_RE.match(value))
