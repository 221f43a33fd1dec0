"""Read and validate every content file, collecting *all* problems before failing.

Authors fix a whole batch of mistakes in one go: each problem names the file (relative to the
content root) and the field. Nothing is loaded into the database unless everything validates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..rules.text import plural
from .schema import CourseDescription, QuizSpec, ReadingMeta, SessionManifest

M = TypeVar("M", bound=BaseModel)

READINGS_DIR = "readings"
QUIZZES_DIR = "quizzes"
COURSE_FILE = "course.yaml"
MANIFEST_FILE = "session.yaml"
MAX_FILE_BYTES = 200_000


@dataclass(frozen=True)
class ContentProblem:
    path: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: {self.field}" if self.field else self.path
        return f"{where}: {self.message}"


class ContentError(Exception):
    """Every problem found in the content files; raised before anything is written."""

    def __init__(self, problems: Iterable[ContentProblem]) -> None:
        self.problems = list(problems)
        super().__init__(
            f"{plural(len(self.problems), 'content problem')}:\n" + "\n".join(map(str, self.problems))
        )


@dataclass(frozen=True)
class LoadedReading:
    meta: ReadingMeta
    body: str  # the Markdown summary
    path: Path


@dataclass(frozen=True)
class LoadedSession:
    manifest: SessionManifest
    readings: list[LoadedReading]
    quiz: QuizSpec | None
    path: Path


@dataclass(frozen=True)
class Catalog:
    root: Path
    course: CourseDescription
    sessions: list[LoadedSession] = field(default_factory=list)


class _Collector:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[ContentProblem] = []

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def add(self, path: Path, field_name: str, message: str) -> None:
        self.problems.append(ContentProblem(self.rel(path), field_name, message))

    def escapes(self, path: Path) -> bool:
        """True (and reported) if ``path`` is a link that leads outside the content root.

        Why: a symlinked reading or session folder would otherwise load text the authors never
        reviewed from anywhere on the server. A link that stays inside the root is harmless.
        """
        try:
            if path.resolve().is_relative_to(self.root):
                return False
        except (OSError, RuntimeError):  # a link loop: cannot be followed at all
            self.add(path, "", "a symbolic link that cannot be followed (a loop)")
            return True
        self.add(path, "", "a symbolic link to outside the content folder")
        return True

    def read_text(self, path: Path) -> str | None:
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                self.add(path, "", f"file is larger than {MAX_FILE_BYTES // 1000} kB")
                return None
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            self.add(path, "", "file is not UTF-8 text")
        except OSError as exc:
            self.add(path, "", f"cannot read file ({exc.strerror})")
        return None

    def parse_yaml(self, path: Path, text: str, *, line_offset: int = 0) -> Any:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1 + line_offset}" if mark is not None else "YAML"
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            self.add(path, where, f"invalid YAML: {problem}")
            return None

    def validate(self, path: Path, model: type[M], data: Any) -> M | None:
        if not isinstance(data, dict):
            self.add(path, "", f"expected a mapping of fields, got {type(data).__name__}")
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(part) for part in err["loc"]) or "(file)"
                self.add(path, loc, err["msg"])
            return None


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """``(front matter, body, body line offset)`` of a ``---``-fenced Markdown file, or None."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "".join(lines[1:index]), "".join(lines[index + 1 :]).strip() + "\n", index + 1
    return None


def load_catalog(root: Path | str) -> Catalog:
    """Validate and load every content file under ``root`` or raise ContentError with all problems."""
    root = Path(root).resolve()
    c = _Collector(root)
    readings_dir, quizzes_dir = root / READINGS_DIR, root / QUIZZES_DIR
    if not readings_dir.is_dir():
        raise ContentError([ContentProblem(READINGS_DIR, "", "folder not found under the content root")])
    if c.escapes(readings_dir):
        raise ContentError(c.problems)

    course_path = readings_dir / COURSE_FILE
    course = None
    if c.escapes(course_path):
        pass
    elif course_path.is_file():
        text = c.read_text(course_path)
        if text is not None:
            course = c.validate(course_path, CourseDescription, c.parse_yaml(course_path, text))
    else:
        c.add(course_path, "", "missing: the public course description")

    quizzes = _load_quizzes(c, quizzes_dir)
    sessions: list[LoadedSession] = []
    used_quizzes: set[str] = set()
    for folder in sorted(p for p in readings_dir.iterdir() if p.is_dir()):
        if c.escapes(folder):
            continue
        loaded = _load_session(c, folder, quizzes)
        if loaded is not None:
            sessions.append(loaded)
            if loaded.quiz is not None:
                used_quizzes.add(loaded.quiz.id)

    _check_catalog(c, sessions, quizzes, used_quizzes)
    if c.problems or course is None:
        raise ContentError(c.problems)
    sessions.sort(key=lambda s: s.manifest.number)
    return Catalog(root=root, course=course, sessions=sessions)


def _load_quizzes(c: _Collector, quizzes_dir: Path) -> dict[str, tuple[QuizSpec, Path]]:
    quizzes: dict[str, tuple[QuizSpec, Path]] = {}
    if not quizzes_dir.is_dir() or c.escapes(quizzes_dir):
        return quizzes
    for path in sorted(quizzes_dir.glob("*.y*ml")):
        if c.escapes(path):
            continue
        text = c.read_text(path)
        if text is None:
            continue
        quiz = c.validate(path, QuizSpec, c.parse_yaml(path, text))
        if quiz is None:
            continue
        if quiz.id in quizzes:
            c.add(path, "id", f"quiz id {quiz.id!r} is also used by {c.rel(quizzes[quiz.id][1])}")
            continue
        quizzes[quiz.id] = (quiz, path)
    return quizzes


def _load_session(
    c: _Collector, folder: Path, quizzes: dict[str, tuple[QuizSpec, Path]]
) -> LoadedSession | None:
    manifest_path = folder / MANIFEST_FILE
    if c.escapes(manifest_path):
        return None
    if not manifest_path.is_file():
        c.add(manifest_path, "", "missing: every session folder needs a session.yaml")
        return None
    text = c.read_text(manifest_path)
    manifest = (
        None
        if text is None
        else c.validate(manifest_path, SessionManifest, c.parse_yaml(manifest_path, text))
    )

    readings: list[LoadedReading] = []
    by_id: dict[str, LoadedReading] = {}
    refused: set[str] = set()  # already reported; not also "missing"
    for path in sorted(folder.glob("*.md")):
        if c.escapes(path):
            refused.add(path.stem)
            continue
        reading = _load_reading(c, path)
        if reading is not None:
            by_id[reading.meta.id] = reading
    if manifest is None:
        return None
    for index, reading_id in enumerate(manifest.readings):
        if reading_id in refused:
            continue
        if reading_id not in by_id:
            c.add(manifest_path, f"readings.{index}", f"no reading file {reading_id}.md in {c.rel(folder)}")
        else:
            readings.append(by_id[reading_id])
    for reading_id, reading in by_id.items():
        if reading_id not in manifest.readings:
            c.add(reading.path, "id", f"reading {reading_id!r} is not listed in {c.rel(manifest_path)}")

    quiz = None
    if manifest.quiz is not None:
        if manifest.quiz not in quizzes:
            c.add(manifest_path, "quiz", f"no quiz file with id {manifest.quiz!r} in {QUIZZES_DIR}/")
        else:
            quiz, quiz_path = quizzes[manifest.quiz]
            if quiz.session != manifest.number:
                c.add(
                    quiz_path,
                    "session",
                    f"is {quiz.session} but {c.rel(manifest_path)} is session {manifest.number}",
                )
    return LoadedSession(manifest=manifest, readings=readings, quiz=quiz, path=manifest_path)


def _load_reading(c: _Collector, path: Path) -> LoadedReading | None:
    text = c.read_text(path)
    if text is None:
        return None
    parts = split_front_matter(text)
    if parts is None:
        c.add(path, "front matter", "a reading starts with YAML front matter between two '---' lines")
        return None
    front, body, _offset = parts
    meta = c.validate(path, ReadingMeta, c.parse_yaml(path, front, line_offset=1))
    if meta is None:
        return None
    if meta.id != path.stem:
        c.add(path, "id", f"{meta.id!r} must match the file name {path.stem!r}")
    if not body.strip():
        c.add(path, "body", "the reading has no summary text after the front matter")
    return LoadedReading(meta=meta, body=body, path=path)


def _check_catalog(
    c: _Collector,
    sessions: list[LoadedSession],
    quizzes: dict[str, tuple[QuizSpec, Path]],
    used_quizzes: set[str],
) -> None:
    seen_numbers: dict[int, Path] = {}
    seen_ids: dict[str, Path] = {}
    seen_items: dict[str, Path] = {}
    for session in sessions:
        m = session.manifest
        if m.number in seen_numbers:
            c.add(session.path, "number", f"session {m.number} is also {c.rel(seen_numbers[m.number])}")
        seen_numbers[m.number] = session.path
        if m.id in seen_ids:
            c.add(session.path, "id", f"{m.id!r} is also used by {c.rel(seen_ids[m.id])}")
        seen_ids[m.id] = session.path
        for reading in session.readings:
            if reading.meta.id in seen_items:
                c.add(
                    reading.path,
                    "id",
                    f"{reading.meta.id!r} is also used by {c.rel(seen_items[reading.meta.id])}",
                )
            seen_items[reading.meta.id] = reading.path
        for index, exercise in enumerate(m.exercises):
            if exercise.id in seen_items:
                c.add(
                    session.path,
                    f"exercises.{index}.id",
                    f"{exercise.id!r} is also used by {c.rel(seen_items[exercise.id])}",
                )
            seen_items[exercise.id] = session.path
    for quiz_id, (_quiz, path) in quizzes.items():
        if quiz_id not in used_quizzes:
            c.add(path, "id", f"quiz {quiz_id!r} is not named by any session.yaml")
