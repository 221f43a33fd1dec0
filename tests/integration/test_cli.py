"""`flask imh …`: content validate/sync, demo and user create."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import AuditEvent, CourseSession, Enrolment, Meeting, Offering, Quiz, Reading, User

REPO_ROOT = Path(__file__).resolve().parents[2]


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def content_copy(app, tmp_path):
    """Point the app at a writable copy of the shipped content."""
    for name in ("readings", "quizzes"):
        shutil.copytree(REPO_ROOT / name, tmp_path / name)
    app.extensions["imh_course"].content_root = tmp_path
    return tmp_path


def test_validate_passes_on_the_shipped_content(runner):
    """`flask imh content validate` accepts the shipped curriculum."""
    result = runner.invoke(args=["imh", "content", "validate"])
    assert result.exit_code == 0, result.output
    assert "11 sessions" in result.output


def test_validate_lists_every_problem_and_exits_non_zero(runner, content_copy):
    """Every problem is printed with file and field; the exit code is 1."""
    (content_copy / "readings/session-04/session.yaml").write_text("id: session-04\nnumber: four\n")
    (content_copy / "quizzes/session-05.yaml").write_text("id: Bad Id\n")
    result = runner.invoke(args=["imh", "content", "validate"])
    assert result.exit_code == 1
    assert "readings/session-04/session.yaml: number:" in result.output
    assert "readings/session-04/session.yaml: title:" in result.output
    assert "quizzes/session-05.yaml: id:" in result.output


def test_sync_is_idempotent(runner):
    """A second sync changes nothing and duplicates nothing."""
    first = runner.invoke(args=["imh", "content", "sync"])
    assert first.exit_code == 0, first.output
    counts = [count(m) for m in (CourseSession, Reading, Quiz, AuditEvent)]
    assert counts[0] == 11
    second = runner.invoke(args=["imh", "content", "sync"])
    assert second.exit_code == 0
    assert "created" not in second.output and "new versions" not in second.output
    assert [count(m) for m in (CourseSession, Reading, Quiz, AuditEvent)] == counts


def test_malformed_content_changes_nothing(runner, content_copy):
    """A sync with a broken file loads nothing at all (all or nothing)."""
    reading = next((content_copy / "readings/session-11").glob("*.md"))
    reading.write_text("---\nid: [\n---\nbody\n")
    result = runner.invoke(args=["imh", "content", "sync"])
    assert result.exit_code == 1
    assert "database was not changed" in result.output
    assert count(CourseSession) == 0 and count(Reading) == 0


def test_changed_reading_becomes_a_new_version(runner, content_copy):
    """Editing a reading creates version 2; version 1 stays for those who used it."""
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    reading = next((content_copy / "readings/session-01").glob("*.md"))
    reading.write_text(reading.read_text() + "\nAn added closing thought.\n")
    result = runner.invoke(args=["imh", "content", "sync"])
    assert result.exit_code == 0 and "1 reading" in result.output
    versions = db.session.execute(
        select(Reading.version, Reading.is_current)
        .where(Reading.key == reading.stem)
        .order_by(Reading.version)
    ).all()
    assert versions == [(1, False), (2, True)]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "content.version")) is not None


def test_changed_quiz_keeps_old_questions(runner, content_copy):
    """A changed quiz is a new version with its own questions; the old version's questions remain."""
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    quiz_file = content_copy / "quizzes/session-02.yaml"
    quiz_file.write_text(quiz_file.read_text().replace("pass_mark: 80", "pass_mark: 70"))
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    rows = db.session.scalars(select(Quiz).where(Quiz.session.has(number=2)).order_by(Quiz.version)).all()
    assert [(q.version, q.pass_mark, q.is_current) for q in rows] == [(1, 80, False), (2, 70, True)]
    assert len(rows[0].questions) == len(rows[1].questions) >= 5


def test_removed_reading_is_retired_not_deleted(runner, content_copy):
    """A reading removed from the files is no longer current, but its row remains."""
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    folder = content_copy / "readings/session-01"
    manifest = folder / "session.yaml"
    readings = sorted(folder.glob("*.md"))
    assert len(readings) >= 2, "session 1 ships two readings"
    victim = readings[-1].stem
    manifest.write_text(
        "\n".join(line for line in manifest.read_text().splitlines() if line.strip() != f"- {victim}")
    )
    readings[-1].unlink()
    result = runner.invoke(args=["imh", "content", "sync"])
    assert result.exit_code == 0, result.output
    row = db.session.scalar(select(Reading).where(Reading.key == victim))
    assert row is not None and row.is_current is False


def test_demo_is_idempotent(runner):
    """`flask imh demo` twice: the mid-term and the finished offering (11 meetings each), 9 accounts, 6
    enrolments (5 mid-term learners, last term's graduate). Each state is checked in test_demo.py."""
    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    first = runner.invoke(args=["imh", "demo"])
    assert first.exit_code == 0, first.output
    assert "lcsw@example.org" in first.output and "password" in first.output
    second = runner.invoke(args=["imh", "demo"])
    assert second.exit_code == 0 and "Reusing" in second.output
    assert (count(Offering), count(Meeting), count(User), count(Enrolment)) == (2, 22, 9, 6)


def test_demo_before_content_explains_what_to_do(runner):
    """Running the demo on an empty database says to load the content first."""
    result = runner.invoke(args=["imh", "demo"])
    assert result.exit_code != 0
    assert "flask imh content sync" in result.output


def test_user_create(runner):
    """`flask imh user create` makes an account with several roles; a short password is refused."""
    ok = runner.invoke(
        args=[
            "imh",
            "user",
            "create",
            "--email",
            "Pat@Example.org",
            "--name",
            "Pat Doe",
            "--role",
            "instructor",
            "--role",
            "learner",
            "--password",
            "long-enough-secret",
        ]
    )
    assert ok.exit_code == 0, ok.output
    user = db.session.scalar(select(User).where(User.email == "pat@example.org"))
    assert {r.role.value for r in user.roles} == {"instructor", "learner"}
    short = runner.invoke(
        args=[
            "imh",
            "user",
            "create",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "learner",
            "--password",
            "short",
        ]
    )
    assert short.exit_code != 0 and "at least 12" in short.output
    dup = runner.invoke(
        args=[
            "imh",
            "user",
            "create",
            "--email",
            "pat@example.org",
            "--name",
            "P",
            "--role",
            "learner",
            "--password",
            "long-enough-secret",
        ]
    )
    assert dup.exit_code != 0 and "already exists" in dup.output


def test_demo_live_meeting_moves_the_next_meeting_to_now(runner):
    """`flask imh demo --live-meeting` moves the next meeting to now (audited) so check-in can be tried."""
    from imh_course.models.types import utcnow

    assert runner.invoke(args=["imh", "content", "sync"]).exit_code == 0
    result = runner.invoke(args=["imh", "demo", "--live-meeting"])
    assert result.exit_code == 0, result.output
    assert "started 5 minutes ago" in result.output
    now = utcnow()
    live = db.session.scalars(select(Meeting).where(Meeting.start_dt <= now, Meeting.end_dt > now)).all()
    assert len(live) == 1
    assert (
        db.session.scalar(select(AuditEvent).where(AuditEvent.reason.like("Demo: moved to now%"))) is not None
    )


def test_demo_refuses_production(app, runner):
    """The demo's accounts have a published password, so it never runs in production."""
    app.config["IMH_ENV"] = "production"
    result = runner.invoke(args=["imh", "demo"])
    assert result.exit_code != 0 and "never runs with IMH_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
