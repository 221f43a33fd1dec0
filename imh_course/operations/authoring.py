"""Browser authoring of learning exercises, and the rules and versioning every authored item shares.

Quizzes (settings and questions) are authored in ``operations/quiz_authoring.py``, which builds on
the shared pieces here: ``AuthoringError`` and ``EditConflict``, ``validated`` / ``clean_text``,
``unique_key``, the copy-on-write helpers (``lock_current``, ``save_new_version``,
``save_first_version``) and ``set_published``. This module never imports it.

Rules the views rely on (for exercises and quizzes alike):

* **Same schema as the files.** Input is validated with the pydantic models of the content files
  (``ExerciseSpec``, ``QuestionSpec``, ``QuizSpec``); problems come back as ``AuthoringError`` with
  one message per field (``"prompt"``, ``"options.1.feedback"``, ``""`` for the whole item), so a
  form can show them next to the inputs. Nothing invalid is stored.
* **Rich text is Markdown, rendered and cleaned on save.** Instructions, prompts and option
  feedback are authored in the same Markdown as the files; ``render_markdown`` escapes raw HTML and
  passes its output through ``sanitize_rich_text`` (bleach, the project's allow-list of tags,
  attributes, URL schemes and CSS). The sanitised HTML is stored and is the only thing learners'
  pages render; the Markdown is kept alongside as the editable source and for ``content export``.
* **Copy-on-write versions.** Every saved change makes a new row (``version + 1``, ``is_current``
  moves, ``origin = browser``); a quiz version is a new ``Quiz`` row with copies of all its
  questions. Responses and attempts keep pointing at the version they used. Saving without a
  change writes nothing. The edit form carries the version it started from; if someone saved a
  newer one meanwhile, ``EditConflict`` is raised instead of overwriting it.
* **Drafts.** A new exercise or quiz starts unpublished; ``set_published`` publishes or hides the
  current version (hiding deletes nobody's work). A new version keeps the publication state.
* **Audit.** Every create, version, publish and unpublish is an audit event in the same
  transaction. Operations flush, never commit.
* **Round trip with the files.** Checksums use the same source functions as sync
  (``content/sync.py``), so ``flask imh content export`` followed by ``sync`` finds these versions
  unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import func, select

from ..content.export import exercise_spec_of
from ..content.schema import ExerciseSpec
from ..content.versions import build_exercise, checksum, exercise_source
from ..database import locked
from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.content_revision import bump_content_revision
from ..models.curriculum import ContentOrigin, CourseSession, Exercise, Quiz, Reading
from ..rules.messages import enter

T = TypeVar("T", Exercise, Quiz)

MAX_KEY_LENGTH = 60
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AuthoringError(ValueError):
    """Input that does not make a valid item: ``problems`` maps a field path to its messages."""

    def __init__(self, problems: dict[str, list[str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{k or 'item'}: {' '.join(v)}" for k, v in problems.items()))


class EditConflict(Exception):
    """A newer version was saved after the editor opened the form; nothing was written."""


@dataclass(frozen=True)
class ExerciseDraft:
    title: str
    kind: str
    estimated_minutes: int
    instructions: str


# --- reading the authorable content ---------------------------------------------------------------


def session_exercises(session: CourseSession) -> list[Exercise]:
    """The current version of every exercise of ``session``, published or not, in order."""
    return list(
        db.session.scalars(
            select(Exercise)
            .where(Exercise.session_id == session.id, Exercise.is_current.is_(True))
            .order_by(Exercise.position, Exercise.id)
        )
    )


def exercises_by_session(session_ids: Sequence[int]) -> dict[int, list[Exercise]]:
    """``session_exercises`` of several sessions in one statement, by session id."""
    found: dict[int, list[Exercise]] = {session_id: [] for session_id in session_ids}
    for exercise in db.session.scalars(
        select(Exercise)
        .where(Exercise.session_id.in_(list(session_ids)), Exercise.is_current.is_(True))
        .order_by(Exercise.position, Exercise.id)
    ):
        found[exercise.session_id].append(exercise)
    return found


def current_exercise(session: CourseSession, key: str) -> Exercise | None:
    return db.session.scalar(
        select(Exercise).where(
            Exercise.session_id == session.id, Exercise.key == key, Exercise.is_current.is_(True)
        )
    )


# --- validation -----------------------------------------------------------------------------------


def clean_text(value: str | None) -> str:
    """Browser text as the files hold it: ``\\n`` line ends, no control characters, no outer spaces."""
    value = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", value).strip()


#: what a blank schema field is called in "Enter …." (the form's words for it)
_BLANK_NAMES = {
    "title": "a title",
    "instructions": "the instructions",
    "prompt": "the question",
    "text": "the option's text",
    "feedback": "the feedback shown for this option",
}


def _message(error: dict[str, Any]) -> str:
    blank = error["type"] == "missing" or (
        error["type"] == "string_too_short" and error.get("ctx", {}).get("min_length") == 1
    )
    if blank:
        name = str(error["loc"][-1]) if error["loc"] else ""
        return enter(_BLANK_NAMES.get(name, "this field"))
    text = str(error["msg"]).removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def _problems(exc: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"])
        path = ".".join(p for p in (prefix, loc) if p) if loc else prefix
        problems.setdefault(path, []).append(_message(error))
    return problems


def validated(model: type[Any], data: dict[str, Any], prefix: str = "") -> Any:
    """``data`` validated by ``model`` (a content-file schema), or AuthoringError with every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise AuthoringError(_problems(exc, prefix)) from exc


def exercise_spec(draft: ExerciseDraft, key: str) -> ExerciseSpec:
    return validated(
        ExerciseSpec,
        {
            "id": key,
            "title": clean_text(draft.title),
            "kind": draft.kind,
            "estimated_minutes": draft.estimated_minutes,
            "instructions": clean_text(draft.instructions),
        },
    )


# --- keys -----------------------------------------------------------------------------------------


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")


def _key_taken(key: str) -> bool:
    for model in (Exercise, Reading):
        if db.session.scalar(select(model.id).where(model.key == key).limit(1)) is not None:
            return True
    return False


def unique_key(base: str, taken: Any) -> str:
    """``base`` cut to the key length, with ``-2``, ``-3`` … appended while ``taken(key)`` says so."""
    base = base[:MAX_KEY_LENGTH].strip("-")
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        suffix = f"-{n}"
        candidate = base[: MAX_KEY_LENGTH - len(suffix)].strip("-") + suffix
    return candidate


def new_exercise_key(session: CourseSession, title: str) -> str:
    """``s03-<title words>``: unique among every exercise and reading version, never reused."""
    slug = slugify(title) or "exercise"
    return unique_key(f"s{session.number:02d}-{slug}", _key_taken)


# --- versions -------------------------------------------------------------------------------------


def _kind(model: type) -> str:
    return model.__tablename__.removeprefix("imh_")


def _latest_version(model: type, key: str) -> int:
    return db.session.scalar(select(func.max(model.version)).where(model.key == key)) or 0


def lock_current(item: T, base_version: int | None) -> None:
    """Re-read ``item`` under a row lock; refuse when it is no longer the version the editor saw."""
    db.session.scalar(locked(select(type(item)).where(type(item).id == item.id)))
    if not item.is_current or (base_version is not None and item.version != base_version):
        raise EditConflict(f"{_kind(type(item))} {item.key} changed while you were editing")


def save_new_version(actor: Actor, current: T, row: T, digest: str, what: dict[str, Any]) -> T:
    """Make ``row`` the new current version of ``current``'s key (copy-on-write) and audit it."""
    row.key = current.key
    row.version = _latest_version(type(current), current.key) + 1
    row.checksum = digest
    row.is_current = True
    row.is_published = current.is_published
    row.origin = ContentOrigin.BROWSER
    current.is_current = False
    db.session.flush()  # the old row stops being current before the new one arrives
    db.session.add(row)
    db.session.flush()
    bump_content_revision(session_id=row.session_id)
    record_event(
        actor,
        "content.version",
        _kind(type(current)),
        current.key,
        before={"version": current.version, "checksum": current.checksum},
        after={"version": row.version, "checksum": digest, "origin": ContentOrigin.BROWSER.value, **what},
    )
    return row


def save_first_version(actor: Actor, row: T, key: str, digest: str, what: dict[str, Any]) -> T:
    """Store ``row`` as version 1 of a new key, unpublished, and audit its creation."""
    row.key, row.version, row.checksum = key, 1, digest
    row.is_current, row.is_published, row.origin = True, False, ContentOrigin.BROWSER
    db.session.add(row)
    db.session.flush()
    bump_content_revision(session_id=row.session_id)
    record_event(
        actor,
        "content.create",
        _kind(type(row)),
        key,
        after={"version": 1, "checksum": digest, "is_published": False, "origin": "browser", **what},
    )
    return row


def set_published(actor: Actor, item: T, published: bool) -> bool:
    """Publish or hide the current version; returns False when it already was in that state."""
    lock_current(item, None)
    if item.is_published == published:
        return False
    item.is_published = published
    db.session.flush()
    bump_content_revision(session_id=item.session_id)
    record_event(
        actor,
        "content.publish" if published else "content.unpublish",
        _kind(type(item)),
        item.key,
        before={"version": item.version, "is_published": not published},
        after={"version": item.version, "is_published": published},
    )
    return True


# --- exercises ------------------------------------------------------------------------------------


def preview_exercise(session: CourseSession, draft: ExerciseDraft, key: str | None = None) -> Exercise:
    """An unsaved exercise exactly as it would be stored (validated, rendered and sanitised)."""
    spec = exercise_spec(draft, key or new_exercise_key(session, draft.title or "exercise"))
    exercise = build_exercise(spec, 0, session)
    exercise.session = session
    exercise.key = spec.id
    return exercise


def create_exercise(actor: Actor, session: CourseSession, draft: ExerciseDraft) -> Exercise:
    """A new exercise at the end of the session, unpublished until someone publishes it."""
    spec = exercise_spec(draft, new_exercise_key(session, clean_text(draft.title) or "exercise"))
    positions = [e.position for e in session_exercises(session)]
    position = max(positions) + 1 if positions else 0
    row = build_exercise(spec, position, session)
    digest = checksum(exercise_source(spec, session.key, position))
    return save_first_version(actor, row, spec.id, digest, {"title": spec.title, "session": session.number})


def edit_exercise(
    actor: Actor, exercise: Exercise, draft: ExerciseDraft, *, base_version: int | None = None
) -> tuple[Exercise, bool]:
    """Save an edit as a new version; returns (current version, whether anything changed)."""
    session = exercise.session
    spec = exercise_spec(draft, exercise.key)
    digest = checksum(exercise_source(spec, session.key, exercise.position))
    lock_current(exercise, base_version)
    if digest == exercise.checksum:
        return exercise, False
    row = build_exercise(spec, exercise.position, session)
    return save_new_version(actor, exercise, row, digest, {"title": spec.title}), True


def exercise_draft_of(exercise: Exercise) -> ExerciseDraft:
    spec = exercise_spec_of(exercise)
    return ExerciseDraft(
        title=spec.title,
        kind=spec.kind.value,
        estimated_minutes=spec.estimated_minutes,
        instructions=spec.instructions,
    )
