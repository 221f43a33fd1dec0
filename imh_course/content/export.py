"""Write the database's current curriculum back to ``readings/`` and ``quizzes/`` files.

The files are the same format ``load_catalog`` reads and ``sync_catalog`` imports, so the curriculum,
including what instructors authored in the browser, can live in version control. The round trip is
exact: exporting, then syncing the exported folder, finds every item unchanged, and exporting twice
writes identical bytes. Three choices make that hold:

* **Sources, not HTML.** Every version keeps the Markdown it was rendered from (``body_md``,
  ``instructions_md``, a question's ``prompt_md`` and each option's ``feedback`` inside the options
  JSON), and export writes that source. HTML is never turned back into Markdown: markdown-it's
  ``js-default`` preset escapes raw HTML, so exported HTML would not render as the learner saw it.
* **Through the schema.** Each file is built as the pydantic model the loader validates
  (``ExerciseSpec``, ``QuizSpec`` …) and dumped from it, so the loader reads back the very values
  whose checksum sync stored. Browser authoring computes checksums with the same functions
  (``content/sync.py``), so its versions are "unchanged" too.
* **Deterministic YAML in the house style.** Keys in schema order, multi-line text as ``|`` blocks,
  identifiers bare, other strings double-quoted (so ``no``, ``1:30`` or ``2005`` stay text), no
  line folding.

What the files cannot say: whether an item is published. Export writes every *current* item,
published or not (an unpublished item left out would shift the positions of the others and be
retired by the next sync); ``ExportResult.unpublished`` lists them so the command can warn that a
fresh database loading these files would publish them. Retired versions are history and stay in
the database only.

The export is assembled in memory, written to a temporary folder and validated with
``load_catalog`` before anything in the target changes; then only files whose bytes differ are
rewritten, and stale content files (readings, session manifests and quiz files the database no
longer has) are removed so the folder validates.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models.curriculum import Course, CourseSession, Exercise, Quiz, Reading
from .loader import COURSE_FILE, MANIFEST_FILE, QUIZZES_DIR, READINGS_DIR, ContentError, load_catalog
from .schema import (
    CourseDescription,
    ExerciseSpec,
    OptionSpec,
    QuestionSpec,
    QuizSpec,
    ReadingMeta,
    SessionManifest,
)


class ExportError(Exception):
    """The database cannot be written as valid content files; nothing in the target was changed."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class MissingSourceError(ExportError):
    """A quiz version was synced before its Markdown sources were kept (before migration 0003)."""


@dataclass
class ExportResult:
    target: Path
    #: every file of the export, relative to the target (POSIX paths)
    files: list[str] = field(default_factory=list)
    #: files whose bytes changed (or that did not exist)
    written: list[str] = field(default_factory=list)
    #: stale content files removed from the target
    removed: list[str] = field(default_factory=list)
    #: "kind key" of current items that are not published (the files cannot say so)
    unpublished: list[str] = field(default_factory=list)


# --- database rows -> the pydantic models of the files ---------------------------------------------


def exercise_spec_of(exercise: Exercise) -> ExerciseSpec:
    return ExerciseSpec(
        id=exercise.key,
        title=exercise.title,
        kind=exercise.kind,
        estimated_minutes=exercise.estimated_minutes,
        instructions=exercise.instructions_md,
    )


def question_spec_of(quiz: Quiz, question: Any) -> QuestionSpec:
    if question.prompt_md is None or any("feedback" not in o for o in question.options):
        raise MissingSourceError(
            [
                f"quiz {quiz.key} version {quiz.version} was loaded before Markdown sources were kept; "
                "run `flask imh content sync` once to store them"
            ]
        )
    return QuestionSpec(
        id=question.key,
        kind=question.kind,
        prompt=question.prompt_md,
        points=question.points,
        options=[
            OptionSpec(id=o["id"], text=o["text"], correct=o["correct"], feedback=o["feedback"])
            for o in question.options
        ],
    )


def quiz_spec_of(quiz: Quiz, session: CourseSession | None = None) -> QuizSpec:
    session = session or quiz.session
    return QuizSpec(
        id=quiz.key,
        session=session.number,
        title=quiz.title,
        estimated_minutes=quiz.estimated_minutes,
        pass_mark=quiz.pass_mark,
        max_attempts=quiz.max_attempts,
        questions=[question_spec_of(quiz, q) for q in sorted(quiz.questions, key=lambda q: q.position)],
    )


def reading_meta_of(reading: Reading) -> ReadingMeta:
    return ReadingMeta(
        id=reading.key,
        title=reading.title,
        estimated_minutes=reading.estimated_minutes,
        citation=reading.citation,
        key_concepts=list(reading.key_concepts),
        guiding_questions=list(reading.guiding_questions),
    )


def course_description_of(course: Course) -> CourseDescription:
    data = {name: value for name, value in course.description.items() if name != "html"}
    return CourseDescription.model_validate(data)


# --- YAML ------------------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """SafeDumper with literal blocks for multi-line text and list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_STR_TAG = "tag:yaml.org,2002:str"
_BARE_WORD = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Multi-line text as a ``|`` block, identifiers bare, every other string double-quoted.

    The block gets the final newline a hand-written ``|`` block has; the schema strips it again on
    load (``str_strip_whitespace``). Where a block cannot hold the text exactly (trailing spaces on a
    line, control characters) the emitter falls back to a double-quoted string; a bare word YAML
    would misread (``no``, ``2005``) is quoted by the dumper itself.
    """
    if "\n" in value:
        return dumper.represent_scalar(_STR_TAG, value + "\n", style="|")
    plain = _BARE_WORD.match(value) and dumper.resolve(yaml.ScalarNode, value, (True, False)) == _STR_TAG
    style = None if plain else '"'
    return dumper.represent_scalar(_STR_TAG, value, style=style)


_Dumper.add_representer(str, _represent_str)


def to_yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False
    )


def _dump(model: Any, *, drop_none: tuple[str, ...] = ()) -> dict[str, Any]:
    data = model.model_dump(mode="json")
    for name in drop_none:
        if data.get(name) is None:
            data.pop(name, None)
    return data


# --- the export ------------------------------------------------------------------------------------


def _current(model: type, session_ids: list[int]) -> list[Any]:
    query = select(model).where(model.session_id.in_(session_ids), model.is_current.is_(True))
    if model is Quiz:
        query = query.options(selectinload(Quiz.questions))
    return list(db.session.scalars(query.order_by(model.position, model.id)))


def render_files() -> tuple[dict[str, str], list[str]]:
    """Every content file as ``{relative path: text}``, plus the unpublished items it contains."""
    courses = db.session.scalars(select(Course).order_by(Course.id)).all()
    if len(courses) != 1:
        raise ExportError([f"expected exactly one course in the database, found {len(courses)}"])
    course = courses[0]
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course.id).order_by(CourseSession.number)
    ).all()
    ids = [s.id for s in sessions]
    by_session: dict[int, dict[type, list[Any]]] = {
        s.id: {Reading: [], Exercise: [], Quiz: []} for s in sessions
    }
    for model in (Reading, Exercise, Quiz):
        for row in _current(model, ids):
            by_session[row.session_id][model].append(row)

    files: dict[str, str] = {f"{READINGS_DIR}/{COURSE_FILE}": to_yaml(_dump(course_description_of(course)))}
    unpublished: list[str] = []
    problems: list[str] = []
    for session in sessions:
        items = by_session[session.id]
        folder = f"{READINGS_DIR}/{session.key}"
        quizzes = items[Quiz]
        if len(quizzes) > 1:
            keys = ", ".join(q.key for q in quizzes)
            problems.append(f"session {session.number} has {len(quizzes)} current quizzes ({keys})")
            continue
        for row in items[Reading] + items[Exercise] + quizzes:
            if not row.is_published:
                unpublished.append(f"{row.__tablename__.removeprefix('imh_')} {row.key}")
        for reading in items[Reading]:
            front = to_yaml(_dump(reading_meta_of(reading)))
            files[f"{folder}/{reading.key}.md"] = f"---\n{front}---\n\n{reading.body_md.strip()}\n"
        manifest = SessionManifest(
            id=session.key,
            number=session.number,
            title=session.title,
            face_to_face_minutes=session.face_to_face_minutes,
            objectives=list(session.objectives),
            competencies=list(session.competencies),
            readings=[r.key for r in items[Reading]],
            exercises=[exercise_spec_of(e) for e in items[Exercise]],
            quiz=quizzes[0].key if quizzes else None,
        )
        files[f"{folder}/{MANIFEST_FILE}"] = to_yaml(_dump(manifest, drop_none=("quiz",)))
        if quizzes:
            data = _dump(quiz_spec_of(quizzes[0], session))
            for question in data["questions"]:  # the default, as hand-written files leave it out
                if question["points"] == 1:
                    del question["points"]
            files[f"{QUIZZES_DIR}/{session.key}.yaml"] = to_yaml(data)
    if problems:
        raise ExportError(problems)
    return files, unpublished


def _stale_files(target: Path, keep: set[str]) -> list[Path]:
    """Content files the loader would read that are not part of this export."""
    candidates: list[Path] = []
    readings = target / READINGS_DIR
    if readings.is_dir():
        for folder in (p for p in readings.iterdir() if p.is_dir()):
            candidates += folder.glob("*.md")
            candidates += [folder / MANIFEST_FILE] if (folder / MANIFEST_FILE).is_file() else []
    quizzes = target / QUIZZES_DIR
    if quizzes.is_dir():
        candidates += quizzes.glob("*.y*ml")
    return sorted(p for p in candidates if p.relative_to(target).as_posix() not in keep)


def _link_out(target: Path, path: Path) -> Path | None:
    """The first symbolic link on the way from ``target`` to ``path`` that leads outside ``target``.

    Why: writing or removing through such a link would change files outside the export folder.
    """
    current = target
    for part in path.relative_to(target).parts:
        current = current / part
        if not current.is_symlink():
            continue
        try:
            if current.resolve().is_relative_to(target):
                continue
        except (OSError, RuntimeError):  # a link loop
            pass
        return current
    return None


def _refuse_links_out(target: Path, paths: list[Path]) -> None:
    """Raise ExportError, before anything is touched, if any path goes through a link out of ``target``."""
    links = {link for link in (_link_out(target, p) for p in paths) if link is not None}
    if links:
        raise ExportError(
            [
                f"{link.relative_to(target).as_posix()}: a symbolic link to outside the export folder"
                for link in sorted(links)
            ]
        )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def export_content(target: Path | str) -> ExportResult:
    """Write the current curriculum under ``target`` (``readings/``, ``quizzes/``); reads the DB only."""
    target = Path(target).resolve()
    files, unpublished = render_files()
    with tempfile.TemporaryDirectory(prefix="imh-export-") as scratch:
        for rel, text in files.items():
            _write(Path(scratch) / rel, text)
        try:
            load_catalog(scratch)
        except ContentError as exc:  # a bug, or data no file could hold: refuse before touching target
            raise ExportError([str(p) for p in exc.problems]) from exc

    _refuse_links_out(target, [target / rel for rel in files] + _stale_files(target, set(files)))
    result = ExportResult(target=target, files=sorted(files), unpublished=unpublished)
    for rel in result.files:
        path = target / rel
        data = files[rel].encode("utf-8")
        if not path.is_file() or path.read_bytes() != data:
            _write(path, files[rel])
            result.written.append(rel)
    for path in _stale_files(target, set(files)):
        path.unlink()
        result.removed.append(path.relative_to(target).as_posix())
        if path.parent.name != QUIZZES_DIR and not any(path.parent.iterdir()):
            path.parent.rmdir()
    return result
