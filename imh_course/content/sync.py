"""Import a validated catalog into the database in one transaction.

Unchanged items are left alone (so a second sync writes nothing); a changed reading, exercise or
quiz becomes a new version and the old one stays for the attempts and responses that used it;
an item removed from the files is retired (no longer current) but never deleted.

Content authored in the browser (``origin = browser``, see ``operations/authoring.py``) and the
files meet here, with three rules kept deliberately simple:

* **Retire file items only.** An item missing from the files is retired only if its current
  version came from the files; a browser-authored item is not in the files until it is exported.
* **The browser version wins.** If the files hold a *different* version of a key whose current
  version was authored in the browser, sync leaves the browser version current and reports the key
  as "kept" (``SyncReport.kept``). To make a file edit count, export first (``flask imh content
  export`` writes the browser version into the files), then edit the file and sync.
* **Export hands an item to the files.** If the files hold exactly the browser version (same
  checksum: ``flask imh content export`` wrote it), sync marks it ``origin = file`` ("adopted"),
  so from then on the files own it: editing or removing it there versions or retires it. If only
  its position differs (export numbers a session's exercises 0, 1, 2 … and closes gaps left by
  retired ones), it is adopted and the new position recorded as a new version.

The checksum of an item is computed over its *source* (the validated file content, see
``exercise_source``/``quiz_source``/``reading_source`` in ``versions``); the browser operations
compute it, and build their rows, with the same functions, which is what makes export -> sync a
round trip with nothing to do.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select

from ..extensions import db
from ..models.audit_chain import Actor, record_event
from ..models.content_revision import bump_content_revision
from ..models.curriculum import ContentOrigin, Course, CourseSession, Exercise, Quiz, Reading
from .loader import Catalog, LoadedSession
from .schema import CourseDescription, QuizSpec
from .versions import (
    build_exercise,
    build_quiz,
    build_reading,
    checksum,
    exercise_source,
    quiz_source,
    reading_source,
    render_cached,
)

T = TypeVar("T", Reading, Exercise, Quiz)

#: Markdown fields of course.yaml, rendered to sanitised HTML at import (never at request time).
COURSE_MARKDOWN_FIELDS = ("summary", "rationale", "participants", "schedule", "ce_note", "cost")


@dataclass
class SyncReport:
    created: Counter[str] = field(default_factory=Counter)
    versioned: Counter[str] = field(default_factory=Counter)
    retired: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    #: browser-authored items found unchanged in the files: now owned by the files (origin=file)
    adopted: Counter[str] = field(default_factory=Counter)
    #: keys whose current version was authored in the browser and differs from the files: left as is
    kept: Counter[str] = field(default_factory=Counter)
    #: the kept keys by kind, so the CLI can name them
    kept_keys: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """True when content changed (adopting an identical browser version is not a change)."""
        return bool(self.created or self.versioned or self.retired)

    def summary(self) -> str:
        parts = []
        for label, counter in (
            ("created", self.created),
            ("new versions", self.versioned),
            ("retired", self.retired),
            ("unchanged", self.unchanged),
            ("adopted from the browser", self.adopted),
            ("browser versions kept", self.kept),
        ):
            if counter:
                parts.append(f"{label}: " + ", ".join(f"{n} {kind}" for kind, n in sorted(counter.items())))
        return "; ".join(parts) or "nothing to do"


def sync_catalog(
    catalog: Catalog, actor: Actor | None = None, progress: Callable[[LoadedSession], None] | None = None
) -> SyncReport:
    """Bring the database in line with ``catalog``; flushes, the caller commits once."""
    actor = actor or Actor.system()
    report = SyncReport()
    course = _sync_course(catalog.course, actor, report)
    keep: dict[type, set[str]] = {Reading: set(), Exercise: set(), Quiz: set()}
    for loaded in catalog.sessions:
        session = _sync_session(course, loaded, actor, report)
        for position, reading in enumerate(loaded.readings):
            keep[Reading].add(reading.meta.id)
            source = reading_source(reading, loaded.manifest.id, position)
            _upsert_version(
                Reading,
                reading.meta.id,
                source,
                actor,
                report,
                lambda r=reading, p=position, s=session: build_reading(r, p, s),
            )
        for position, exercise in enumerate(loaded.manifest.exercises):
            keep[Exercise].add(exercise.id)
            source = exercise_source(exercise, loaded.manifest.id, position)
            _upsert_version(
                Exercise,
                exercise.id,
                source,
                actor,
                report,
                lambda e=exercise, p=position, s=session: build_exercise(e, p, s),
            )
        if loaded.quiz is not None:
            keep[Quiz].add(loaded.quiz.id)
            source = quiz_source(loaded.quiz, loaded.manifest.id)
            _upsert_version(
                Quiz,
                loaded.quiz.id,
                source,
                actor,
                report,
                lambda q=loaded.quiz, s=session: build_quiz(q, s),
                on_unchanged=lambda row, q=loaded.quiz: fill_question_sources(row, q),
            )
        if progress is not None:
            progress(loaded)
    for model, keys in keep.items():
        _retire_missing(model, keys, actor, report)
    db.session.flush()
    if report.changed:
        # Retiring looks at every course's items, so every course's snapshot is renewed.
        bump_content_revision()
    return report


def _sync_course(spec: CourseDescription, actor: Actor, report: SyncReport) -> Course:
    data = spec.model_dump(mode="json")
    digest = checksum(data)
    data["html"] = {name: render_cached(data[name]) for name in COURSE_MARKDOWN_FIELDS}
    course = db.session.scalar(select(Course).where(Course.key == spec.id))
    if course is None:
        course = Course(key=spec.id, title=spec.title, description=data, checksum=digest, version=1)
        db.session.add(course)
        db.session.flush()
        report.created["course"] += 1
        record_event(actor, "content.create", "course", course.key, after={"title": spec.title, "version": 1})
    elif course.checksum != digest:
        before = {"title": course.title, "version": course.version}
        course.title, course.description, course.checksum = spec.title, data, digest
        course.version += 1
        report.versioned["course"] += 1
        record_event(
            actor,
            "content.version",
            "course",
            course.key,
            before=before,
            after={"title": spec.title, "version": course.version},
        )
    else:
        report.unchanged["course"] += 1
    return course


def _sync_session(course: Course, loaded: LoadedSession, actor: Actor, report: SyncReport) -> CourseSession:
    m = loaded.manifest
    fields = {
        "number": m.number,
        "title": m.title,
        "objectives": list(m.objectives),
        "face_to_face_minutes": m.face_to_face_minutes,
        "competencies": list(m.competencies),
    }
    digest = checksum(fields)
    row = db.session.scalar(
        select(CourseSession).where(CourseSession.course_id == course.id, CourseSession.key == m.id)
    )
    if row is None:
        row = CourseSession(course_id=course.id, key=m.id, checksum=digest, version=1, **fields)
        db.session.add(row)
        db.session.flush()
        report.created["session"] += 1
        record_event(actor, "content.create", "course_session", m.id, after={**fields, "version": 1})
    elif row.checksum != digest:
        before = {k: getattr(row, k) for k in fields} | {"version": row.version}
        for key, value in fields.items():
            setattr(row, key, value)
        row.checksum = digest
        row.version += 1
        report.versioned["session"] += 1
        record_event(
            actor,
            "content.version",
            "course_session",
            m.id,
            before=before,
            after={**fields, "version": row.version},
        )
    else:
        report.unchanged["session"] += 1
    return row


def _upsert_version(
    model: type[T],
    key: str,
    source: dict[str, Any],
    actor: Actor,
    report: SyncReport,
    build: Callable[[], T],
    on_unchanged: Callable[[T], None] | None = None,
) -> None:
    kind = model.__tablename__.removeprefix("imh_")
    digest = checksum(source)
    current = db.session.scalar(select(model).where(model.key == key, model.is_current.is_(True)))
    if current is not None and current.origin is ContentOrigin.BROWSER:
        if checksum(_at_position(source, current.position)) != current.checksum:
            report.kept[kind] += 1
            report.kept_keys.setdefault(kind, []).append(key)
            return
        # The files hold this browser version (export may have renumbered its position).
        _adopt(current, kind, actor, report)
    if current is not None and current.checksum == digest:
        report.unchanged[kind] += 1
        if on_unchanged is not None:
            on_unchanged(current)
        return
    latest = db.session.scalar(
        select(model.version).where(model.key == key).order_by(model.version.desc()).limit(1)
    )
    row = build()
    row.key, row.checksum, row.version, row.is_current = key, digest, (latest or 0) + 1, True
    row.origin = ContentOrigin.FILE
    if current is not None:
        current.is_current = False
        row.is_published = current.is_published
    db.session.add(row)
    db.session.flush()
    action = "content.create" if latest is None else "content.version"
    (report.created if latest is None else report.versioned)[kind] += 1
    record_event(
        actor,
        action,
        kind,
        key,
        before=None if current is None else {"version": current.version, "checksum": current.checksum},
        after={"version": row.version, "checksum": digest},
    )


def _at_position(source: dict[str, Any], position: int) -> dict[str, Any]:
    """``source`` as it would read at ``position`` (sources without a position are returned as is)."""
    return {**source, "position": position} if "position" in source else source


def _adopt(row: Reading | Exercise | Quiz, kind: str, actor: Actor, report: SyncReport) -> None:
    """The files now hold exactly this browser-authored version: from now on the files own it."""
    row.origin = ContentOrigin.FILE
    report.adopted[kind] += 1
    record_event(
        actor,
        "content.adopt",
        kind,
        row.key,
        before={"version": row.version, "origin": ContentOrigin.BROWSER.value},
        after={"version": row.version, "origin": ContentOrigin.FILE.value},
    )


def _retire_missing(model: type[T], keep: Iterable[str], actor: Actor, report: SyncReport) -> None:
    """Retire current *file* items that left the files; browser-authored items are not in them."""
    kind = model.__tablename__.removeprefix("imh_")
    keep = set(keep)
    current_file_items = select(model).where(model.is_current.is_(True), model.origin == ContentOrigin.FILE)
    for row in db.session.scalars(current_file_items):
        if row.key not in keep:
            row.is_current = False
            report.retired[kind] += 1
            record_event(
                actor,
                "content.retire",
                kind,
                row.key,
                before={"version": row.version, "is_current": True},
                after={"version": row.version, "is_current": False},
            )


def fill_question_sources(quiz: Quiz, spec: QuizSpec) -> None:
    """Store the Markdown sources of an unchanged quiz synced before they were kept (migration 0003).

    The checksum matched, so the file *is* the source of this version: this adds no content, it
    only lets ``flask imh content export`` write the version back.
    """
    by_key = {q.id: q for q in spec.questions}
    for question in quiz.questions:
        q = by_key.get(question.key)
        if q is None:
            continue
        if question.prompt_md is None:
            question.prompt_md = q.prompt
        feedback = {o.id: o.feedback for o in q.options}
        if any("feedback" not in o for o in question.options):
            question.options = [{**o, "feedback": feedback.get(o["id"], "")} for o in question.options]
