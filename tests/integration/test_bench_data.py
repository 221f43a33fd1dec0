"""The benchmark data commands behind ``make bench`` and ``make load`` (issue 9).

``flask imh bench seed`` must build a realistic term (attendance with late arrivals and absences,
progress, attempts, certificates) that the real pages read without error; ``bench ready`` an
offering whose learners are all due a CE certificate; ``bench learners`` fresh learners with no
activity. If these drift from the schema, ``make bench`` breaks on a fresh clone, so CI runs them.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models import (
    AttendanceRecord,
    Certificate,
    Enrolment,
    Offering,
    QuizAttempt,
    ReadingCompletion,
    User,
)
from imh_course.reports.matrix_data import load_matrix

BENCH_PASSWORD = "bench-password-2026"


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_seed_builds_a_full_term_the_pages_can_read(app, runner, content, client, login):  # noqa: ARG001
    result = runner.invoke(args=["imh", "bench", "seed", "--learners", "240"])
    assert result.exit_code == 0, result.output
    assert "Seeded 240 learners" in result.output

    learners = db.session.scalar(
        select(func.count()).select_from(User).where(User.email.like("bench-learner-%"))
    )
    assert learners == 240
    # Every learner has a record for every meeting of their offering: 11 sessions each.
    assert count(AttendanceRecord) == 240 * 11
    statuses = Counter(db.session.scalars(select(AttendanceRecord.status)))
    assert {"present", "late", "absent"} <= {str(getattr(s, "value", s)) for s in statuses}
    assert count(ReadingCompletion) > 240 and count(QuizAttempt) > 240
    assert count(Certificate) > 0

    # A seeded learner's pages render, with both ledgers.
    email, offering_id = db.session.execute(
        select(User.email, Enrolment.offering_id)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(User.email.like("bench-learner-%"))
        .order_by(User.id)
        .limit(1)
    ).one()
    login(email, BENCH_PASSWORD)
    page = client.get(f"/learn/offerings/{offering_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # (the seeded licence is random: the face-to-face ledger is CE only for a covered one)
    assert (
        "CE contact hours:" in text or "Face-to-face clock hours — not CE" in text
    ) and "Independent learning" in text
    assert client.get(f"/learn/offerings/{offering_id}/sessions/3").status_code == 200


def test_ready_makes_an_offering_whose_learners_are_all_due(app, runner, content):  # noqa: ARG001
    result = runner.invoke(args=["imh", "bench", "ready", "--count", "6"])
    assert result.exit_code == 0, result.output
    offering_id = int(result.output.split()[1].rstrip(":"))
    matrix = load_matrix(db.session.get(Offering, offering_id))
    assert len(matrix.rows) == 6
    assert all(row.due for row in matrix.rows), [row.eligibility.reasons for row in matrix.rows]


def test_learners_adds_fresh_learners_with_no_activity(app, runner, content):  # noqa: ARG001
    assert runner.invoke(args=["imh", "bench", "seed", "--learners", "20"]).exit_code == 0
    before = count(AttendanceRecord), count(ReadingCompletion), count(QuizAttempt)
    result = runner.invoke(args=["imh", "bench", "learners", "--count", "3", "--prefix", "fresh"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 3 and all(line.split()[1].startswith("fresh-") for line in lines)
    assert (count(AttendanceRecord), count(ReadingCompletion), count(QuizAttempt)) == before
