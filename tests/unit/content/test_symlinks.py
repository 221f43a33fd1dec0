"""Symbolic links in the content tree: a link that leads outside the content root is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imh_course.content.loader import ContentError, load_catalog

REPO_ROOT = Path(__file__).resolve().parents[3]
REASON = "a symbolic link to outside the content folder"


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A writable copy of the shipped content in its own folder, with room beside it for an outsider."""
    root = tmp_path / "content"
    for name in ("readings", "quizzes"):
        shutil.copytree(REPO_ROOT / name, root / name)
    return root


def problems_of(root: Path) -> list[str]:
    """Every problem the loader reports; fails the test if it loads anything at all."""
    with pytest.raises(ContentError) as info:
        load_catalog(root)
    return [str(p) for p in info.value.problems]


def _move_out_and_link(inside: Path, outside: Path) -> None:
    """Move ``inside`` to ``outside`` and leave a symbolic link in its place (same content, new home)."""
    outside.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(inside, outside)
    inside.symlink_to(outside, target_is_directory=outside.is_dir())


def test_symlinked_reading_outside_the_root_is_refused(content_root, tmp_path):
    """A reading file that is a link to a file outside the root is named with the reason; nothing loads."""
    reading = sorted((content_root / "readings/session-01").glob("*.md"))[0]
    _move_out_and_link(reading, tmp_path / "elsewhere" / reading.name)
    found = problems_of(content_root)
    assert f"readings/session-01/{reading.name}: {REASON}" in found
    # The refusal is the whole story for that file: not also reported as a missing reading.
    assert not any(f"no reading file {reading.stem}.md" in p for p in found)


def test_symlinked_session_folder_outside_the_root_is_refused(content_root, tmp_path):
    """A whole session folder linked in from outside the root is named with the reason; nothing loads."""
    folder = content_root / "readings/session-03"
    _move_out_and_link(folder, tmp_path / "elsewhere" / "session-03")
    assert f"readings/session-03: {REASON}" in problems_of(content_root)


def test_symlinked_quiz_outside_the_root_is_refused(content_root, tmp_path):
    """A quiz file linked in from outside the root is refused the same way."""
    quiz = content_root / "quizzes/session-05.yaml"
    _move_out_and_link(quiz, tmp_path / "elsewhere" / quiz.name)
    assert f"quizzes/session-05.yaml: {REASON}" in problems_of(content_root)


def test_symlinked_readings_folder_outside_the_root_is_refused(content_root, tmp_path):
    """The readings/ folder itself linked from outside the root is refused before anything is read."""
    _move_out_and_link(content_root / "readings", tmp_path / "elsewhere" / "readings")
    assert problems_of(content_root) == [f"readings: {REASON}"]


def test_symlink_loop_is_reported_not_crashed(content_root):
    """A link that points at itself is a clear problem, not a traceback."""
    loop = content_root / "readings/session-02/s02-loop.md"
    loop.symlink_to(loop)
    found = problems_of(content_root)
    assert any(p.startswith("readings/session-02/s02-loop.md: a symbolic link") for p in found)


def test_symlink_that_stays_inside_the_root_is_accepted(content_root):
    """Authors may share a file inside the content root through a link: it loads like any other."""
    reading = sorted((content_root / "readings/session-01").glob("*.md"))[0]
    _move_out_and_link(reading, content_root / "shared" / reading.name)
    catalog = load_catalog(content_root)
    session = next(s for s in catalog.sessions if s.manifest.number == 1)
    assert reading.stem in [r.meta.id for r in session.readings]
