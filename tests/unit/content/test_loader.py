"""The content loader: strict validation, every problem listed with file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from imh_course.content.loader import ContentError, load_catalog, split_front_matter

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def content_root(tmp_path: Path) -> Path:
    """A writable copy of the shipped content."""
    for name in ("readings", "quizzes"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    return tmp_path


def problems_of(root: Path) -> list[str]:
    with pytest.raises(ContentError) as info:
        load_catalog(root)
    return [str(p) for p in info.value.problems]


def test_the_shipped_content_loads(content_root):
    """The shipped curriculum validates: 11 sessions in order."""
    catalog = load_catalog(content_root)
    assert [s.manifest.number for s in catalog.sessions] == list(range(1, 12))


def test_every_problem_is_reported_with_file_and_field(content_root):
    """Several mistakes in several files are all reported at once, each with its path and field."""
    manifest = content_root / "readings/session-02/session.yaml"
    manifest.write_text(
        manifest.read_text().replace("face_to_face_minutes: 90", "face_to_face_minutes: '90'")
    )
    quiz = next((content_root / "quizzes").glob("*.yaml"))
    quiz.write_text(quiz.read_text() + "\nsurprise_key: 1\n")
    found = problems_of(content_root)
    assert any(p.startswith("readings/session-02/session.yaml: face_to_face_minutes:") for p in found)
    assert any(p.startswith(f"quizzes/{quiz.name}: surprise_key:") for p in found)


def test_yaml_syntax_error_names_the_line(content_root):
    """A YAML syntax error points at the file and line."""
    manifest = content_root / "readings/session-03/session.yaml"
    manifest.write_text("id: session-03\ntitle: [unclosed\n")
    found = problems_of(content_root)
    assert any(p.startswith("readings/session-03/session.yaml: line ") and "invalid YAML" in p for p in found)


def test_unknown_competency_domain_is_rejected(content_root):
    """Competency domains must be the eight official names."""
    manifest = content_root / "readings/session-01/session.yaml"
    text = manifest.read_text()
    manifest.write_text(text.replace("competencies:", "competencies:\n  - Vibes", 1))
    assert any("unknown competency domain" in p for p in problems_of(content_root))


def test_reading_without_front_matter(content_root):
    """A reading must start with YAML front matter."""
    reading = next((content_root / "readings/session-01").glob("*.md"))
    reading.write_text("# Just a heading\n")
    assert any(
        p.startswith(f"readings/session-01/{reading.name}: front matter") for p in problems_of(content_root)
    )


def test_unlisted_and_missing_readings(content_root):
    """A reading file the manifest does not list, and a listed reading with no file, are both errors."""
    folder = content_root / "readings/session-01"
    reading = next(folder.glob("*.md"))
    text = reading.read_text()
    reading.unlink()
    (folder / "s01-extra.md").write_text(text.replace(f"id: {reading.stem}", "id: s01-extra", 1))
    found = problems_of(content_root)
    assert any(f"no reading file {reading.stem}.md" in p for p in found)
    assert any(p.startswith("readings/session-01/s01-extra.md: id:") and "not listed" in p for p in found)


def test_reading_id_must_match_file_name(content_root):
    """A reading's id and its file name agree, so authors can find it."""
    folder = content_root / "readings/session-01"
    reading = next(folder.glob("*.md"))
    reading.rename(folder / "zz-renamed.md")
    assert any("must match the file name" in p for p in problems_of(content_root))


def test_single_choice_needs_exactly_one_correct_option(content_root):
    """An answer key with two correct options on a single-choice question is refused."""
    quiz = content_root / "quizzes/session-01.yaml"
    text = quiz.read_text()
    assert "correct: false" in text
    quiz.write_text(text.replace("correct: false", "correct: true"))
    assert any("exactly one correct option" in p for p in problems_of(content_root))


def test_front_matter_split():
    """Front matter is the block between the first two '---' lines."""
    assert split_front_matter("---\nid: x\n---\nBody\n") == ("id: x\n", "Body\n", 3)
    assert split_front_matter("no front matter") is None
