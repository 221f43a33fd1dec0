"""`flask imh content export` writes the database back to files that `sync` reads unchanged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from imh_course.content.export import ExportError, export_content
from imh_course.content.loader import load_catalog
from imh_course.content.sync import sync_catalog
from imh_course.extensions import db
from imh_course.models.audit import AuditEvent
from imh_course.models.curriculum import ContentOrigin, Exercise, Quiz
from imh_course.operations import authoring as ops
from imh_course.operations import quiz_authoring as quiz_ops
from tests.conftest import REPO_ROOT
from tests.integration.authoring_helpers import (
    current_exercise,
    current_quiz_of,
    instructor_actor,
    session_number,
)
from tests.xss import load_xss_corpus


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def author_in_browser(demo) -> tuple[Exercise, Quiz]:
    """A new published exercise in session 3 and an edited question in the session-3 quiz."""
    actor = instructor_actor(demo.instructor_id)
    session = session_number(3)
    exercise = ops.create_exercise(
        actor,
        session,
        ops.ExerciseDraft(
            "Holding Two Stories",
            "applied",
            15,
            "1. Read the vignette.\n2. Note **two** stories a parent tells:\n\n> the past, and the present",
        ),
    )
    ops.set_published(actor, exercise, True)
    quiz = current_quiz_of(3)
    question = quiz.questions[1]
    draft = quiz_ops.question_draft_of(question)
    quiz, _changed = quiz_ops.edit_question(
        actor,
        quiz,
        question.key,
        quiz_ops.QuestionDraft(
            draft.kind, "Which factor *protected* parents: no, yes, 1:30?", draft.options, 2
        ),
    )
    db.session.commit()
    return exercise, quiz


def sync_from(root: Path):
    report = sync_catalog(load_catalog(root))
    db.session.commit()
    return report


def test_export_then_sync_is_a_round_trip_with_nothing_to_do(app, demo, tmp_path):
    """Shipped content plus browser edits: export, sync the export: nothing created, versioned or retired."""
    exercise, quiz = author_in_browser(demo)
    first = tmp_path / "first"
    export_content(first)

    report = sync_from(first)
    assert (report.created, report.versioned, report.retired, report.kept) == ({}, {}, {}, {})
    assert report.adopted == {"exercise": 1, "quiz": 1}
    assert current_exercise(exercise.key).id == exercise.id
    assert current_quiz_of(3).id == quiz.id

    second = tmp_path / "second"
    export_content(second)
    assert snapshot(second) == snapshot(first)
    again = sync_from(second)
    assert not again.changed and not again.adopted


def test_exported_shipped_content_matches_the_house_files(app, content, tmp_path):
    """Exporting freshly synced content reproduces the quiz and session files byte for byte."""
    export_content(tmp_path)
    shipped = snapshot(REPO_ROOT / "quizzes")
    assert snapshot(tmp_path / "quizzes") == shipped
    assert snapshot(tmp_path / "readings" / "session-03") == snapshot(REPO_ROOT / "readings" / "session-03")
    assert not sync_from(tmp_path).changed


def test_a_second_export_into_the_same_folder_writes_nothing(app, content, tmp_path):
    """Export rewrites only files whose bytes differ, so version control sees no change."""
    assert len(export_content(tmp_path).written) > 0
    result = export_content(tmp_path)
    assert (result.written, result.removed) == ([], [])


def test_export_removes_content_files_the_database_no_longer_has(app, content, tmp_path):
    """A reading or quiz file left over from earlier is removed, so the folder validates."""
    export_content(tmp_path)
    stale_reading = tmp_path / "readings" / "session-03" / "s03-old-reading.md"
    stale_reading.write_text("---\nid: s03-old-reading\n---\nold\n", encoding="utf-8")
    stale_quiz = tmp_path / "quizzes" / "session-99.yaml"
    stale_quiz.write_text("id: session-99-quiz\n", encoding="utf-8")
    keep = tmp_path / "README.md"
    keep.write_text("not content", encoding="utf-8")
    result = export_content(tmp_path)
    assert sorted(result.removed) == ["quizzes/session-99.yaml", "readings/session-03/s03-old-reading.md"]
    assert keep.exists()
    load_catalog(tmp_path)


def test_the_xss_corpus_survives_the_round_trip_exactly(app, demo, tmp_path):
    """Hostile text (control chars, odd spaces, YAML look-alikes) is exported and re-read unchanged."""
    actor = instructor_actor(demo.instructor_id)
    session = session_number(4)
    corpus = load_xss_corpus()
    for start in range(0, len(corpus), 100):
        chunk = "\n".join(corpus[start : start + 100])
        ops.create_exercise(actor, session, ops.ExerciseDraft(f"XSS {start}", "applied", 5, chunk))
        quiz = current_quiz_of(4)
        options = [
            quiz_ops.OptionDraft(corpus[start][:300], True, chunk[:2_000]),
            quiz_ops.OptionDraft("no", False, "1:30"),
        ]
        quiz_ops.add_question(actor, quiz, quiz_ops.QuestionDraft("single", chunk[:2_000], options))
    db.session.commit()
    export_content(tmp_path)
    report = sync_from(tmp_path)
    assert (report.created, report.versioned, report.retired, report.kept) == ({}, {}, {}, {})


def test_sync_never_retires_or_overwrites_browser_content(app, demo):
    """Syncing the shipped files keeps a browser-authored exercise and the browser version of a quiz."""
    exercise, quiz = author_in_browser(demo)
    report = sync_from(REPO_ROOT)
    assert report.retired == {} and report.versioned == {} and report.created == {}
    assert report.kept == {"quiz": 1} and report.kept_keys == {"quiz": [quiz.key]}
    assert current_exercise(exercise.key).id == exercise.id
    assert current_quiz_of(3).id == quiz.id
    assert "browser versions kept: 1 quiz" in report.summary()


def test_after_export_the_files_own_the_item(app, demo, tmp_path):
    """Once exported and synced, an item is a file item: removing it from the files retires it."""
    exercise, _quiz = author_in_browser(demo)
    export_content(tmp_path)
    sync_from(tmp_path)
    adopted = current_exercise(exercise.key)
    assert adopted.origin is ContentOrigin.FILE
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "content.adopt", AuditEvent.entity_id == exercise.key)
    )
    manifest = tmp_path / "readings" / "session-03" / "session.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: text.index(f"  - id: {exercise.key}")] + text[text.index("quiz: ") :])
    report = sync_from(tmp_path)
    assert report.retired == {"exercise": 1}
    assert current_exercise(exercise.key) is None


def test_unpublished_items_are_exported_and_reported(app, demo, tmp_path):
    """The files cannot say "unpublished": export writes the draft and names it so the CLI can warn."""
    actor = instructor_actor(demo.instructor_id)
    draft = ops.create_exercise(actor, session_number(2), ops.ExerciseDraft("A draft", "applied", 5, "Text."))
    db.session.commit()
    result = export_content(tmp_path)
    assert result.unpublished == [f"exercise {draft.key}"]
    assert draft.key in (tmp_path / "readings" / "session-02" / "session.yaml").read_text(encoding="utf-8")
    report = sync_from(tmp_path)
    assert not report.changed and current_exercise(draft.key).is_published is False


def test_quizzes_synced_before_sources_were_kept_are_filled_in_by_the_next_sync(app, content, tmp_path):
    """A question without its Markdown source blocks export until a sync stores it again."""
    quiz = current_quiz_of(1)
    question = quiz.questions[0]
    question.prompt_md = None
    question.options = [{k: v for k, v in o.items() if k != "feedback"} for o in question.options]
    db.session.commit()
    target = tmp_path / "out"
    with pytest.raises(ExportError, match="run `flask imh content sync`"):
        export_content(target)
    assert not target.exists()  # nothing written
    report = sync_from(REPO_ROOT)
    assert not report.changed
    export_content(target)
    assert snapshot(target / "quizzes") == snapshot(REPO_ROOT / "quizzes")


def test_export_command_writes_the_files(runner, content, tmp_path):
    """`flask imh content export --into DIR` writes readings/ and quizzes/ and says what it did."""
    result = runner.invoke(args=["imh", "content", "export", "--into", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "Exported 41 files" in result.output and "41 written" in result.output
    assert (tmp_path / "quizzes" / "session-03.yaml").is_file()
    result = runner.invoke(args=["imh", "content", "export", "--into", str(tmp_path)])
    assert "0 written, 0 removed, 41 unchanged" in result.output


def test_export_command_warns_about_unpublished_items(runner, demo, tmp_path):
    """The command names unpublished items, since a new database would publish them."""
    actor = instructor_actor(demo.instructor_id)
    ops.create_exercise(actor, session_number(2), ops.ExerciseDraft("A draft", "applied", 5, "Text."))
    db.session.commit()
    result = runner.invoke(args=["imh", "content", "export", "--into", str(tmp_path)])
    assert result.exit_code == 0
    assert "unpublished items were exported" in result.output and "exercise s02-a-draft" in result.output


def test_export_command_fails_cleanly_without_content(runner, app, tmp_path):
    """With no course in the database the command exits 1 and writes nothing."""
    target = tmp_path / "out"
    result = runner.invoke(args=["imh", "content", "export", "--into", str(target)])
    assert result.exit_code == 1
    assert "expected exactly one course" in result.output
    assert not target.exists()


def test_export_closes_position_gaps_and_the_next_sync_records_them_once(app, demo, tmp_path):
    """A browser exercise behind a retired one is renumbered by export; sync adopts it and then settles."""
    exercise, _quiz = author_in_browser(demo)
    session = session_number(3)
    for row in db.session.scalars(
        select(Exercise).where(
            Exercise.session_id == session.id, Exercise.is_current.is_(True), Exercise.key != exercise.key
        )
    ):
        row.is_current = False  # as if an earlier exercise had been retired
    db.session.commit()
    export_content(tmp_path / "first")
    report = sync_from(tmp_path / "first")
    assert report.versioned == {"exercise": 1} and report.adopted == {"exercise": 1, "quiz": 1}
    renumbered = current_exercise(exercise.key)
    assert (renumbered.position, renumbered.version, renumbered.origin) == (0, 2, ContentOrigin.FILE)
    export_content(tmp_path / "second")
    assert snapshot(tmp_path / "second") == snapshot(tmp_path / "first")
    assert not sync_from(tmp_path / "second").changed


def test_export_refuses_a_link_out_of_the_folder_and_touches_nothing(app, content, tmp_path):
    """A session folder linked from outside is named; no file behind the link is written or removed."""
    target = tmp_path / "export"
    export_content(target)
    outside = tmp_path / "elsewhere" / "session-04"
    outside.parent.mkdir()
    shutil.move(target / "readings/session-04", outside)
    (target / "readings/session-04").symlink_to(outside, target_is_directory=True)
    victim = outside / "s04-stale.md"  # would be removed as stale if the link were followed
    victim.write_text("---\nid: s04-stale\n---\nnot ours\n", encoding="utf-8")
    manifest = outside / "session.yaml"
    manifest.write_text("edited outside\n", encoding="utf-8")  # would be rewritten
    with pytest.raises(ExportError) as info:
        export_content(target)
    assert info.value.problems == ["readings/session-04: a symbolic link to outside the export folder"]
    assert victim.exists() and manifest.read_text(encoding="utf-8") == "edited outside\n"
