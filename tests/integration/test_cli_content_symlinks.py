"""`flask imh content validate/sync` with a symbolic link that leads outside the content root."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import CourseSession, Reading

REPO_ROOT = Path(__file__).resolve().parents[2]
REASON = "a symbolic link to outside the content folder"


@pytest.fixture
def linked_out(app, tmp_path: Path) -> str:
    """A content copy whose session-07 folder lives outside the root, linked back in; its relative path."""
    root = tmp_path / "content"
    for name in ("readings", "quizzes"):
        shutil.copytree(REPO_ROOT / name, root / name)
    outside = tmp_path / "elsewhere" / "session-07"
    outside.parent.mkdir()
    shutil.move(root / "readings/session-07", outside)
    (root / "readings/session-07").symlink_to(outside, target_is_directory=True)
    app.extensions["imh_course"].content_root = root
    return "readings/session-07"


def test_validate_names_the_link_and_the_reason(runner, linked_out):
    """The operator sees which file is a link out of the content folder; exit code 1."""
    result = runner.invoke(args=["imh", "content", "validate"])
    assert result.exit_code == 1
    assert f"{linked_out}: {REASON}" in result.output
    assert "nothing was loaded" in result.output


def test_sync_with_a_link_outside_changes_nothing(runner, linked_out):
    """All or nothing: not one session or reading is written, not even the ten that are fine."""
    result = runner.invoke(args=["imh", "content", "sync"])
    assert result.exit_code == 1
    assert f"{linked_out}: {REASON}" in result.output
    assert "database was not changed" in result.output
    for model in (CourseSession, Reading):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
