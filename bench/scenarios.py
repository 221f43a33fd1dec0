"""What bench/run.py measures, one function per row of the results table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask import Flask, url_for
from sqlalchemy import func, select

from bench.timing import Result, ok
from imh_course.extensions import db
from imh_course.models import (
    Enrolment,
    InstructorAssignment,
    Meeting,
    Quiz,
    User,
)
from imh_course.security.roles import Role

PASSWORD = "bench-password-2026"


def _client(app: Flask, email: str):  # noqa: ANN202
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"bench sign-in failed for {email}")
    return client


def _offering_by_size(size: int) -> int:
    rows = db.session.execute(
        select(Enrolment.offering_id, func.count())
        .group_by(Enrolment.offering_id)
        .order_by(func.count().desc())
    ).all()
    for offering_id, count in rows:
        if count == size:
            return offering_id
    return rows[0][0]


def _endpoint(app: Flask, *names: str) -> str | None:
    return next((n for n in names if n in app.view_functions), None)


def _fresh_learners(offering_id: int, count: int) -> list[str]:
    """New learners with no attempts yet, so every timed quiz submission grades a first attempt."""
    from imh_course.bench.cohorts import fresh_learners
    from imh_course.security.auth import hash_password

    emails = fresh_learners(offering_id, count, prefix="bench-quiz", password_hash=hash_password(PASSWORD))
    db.session.commit()
    return emails


def run_scenarios(app: Flask, runs: int, counter, measure: Callable, only: list[str] = ()) -> list:  # noqa: ANN001
    """Every row of the table; with ``only``, the rows whose names contain one of its parts
    (``measure`` then returns None for the others; costly set-up of skipped rows is not done)."""

    def wanted(name: str) -> bool:
        return not only or any(part in name for part in only)

    results = []
    small = _offering_by_size(200)
    large = _offering_by_size(1000)
    learner_email = db.session.scalar(
        select(User.email)
        .join(Enrolment, Enrolment.user_id == User.id)
        .where(Enrolment.offering_id == small)
        .limit(1)
    )
    learner = _client(app, learner_email)
    results.append(measure("baseline page", lambda _i: ok(learner.get("/_bench/baseline")), runs, counter))
    results.append(
        measure("learner dashboard", lambda _i: ok(learner.get(f"/learn/offerings/{small}")), runs, counter)
    )
    results.append(
        measure(
            "session page", lambda _i: ok(learner.get(f"/learn/offerings/{small}/sessions/3")), runs, counter
        )
    )

    quiz = db.session.scalar(select(Quiz).where(Quiz.is_current.is_(True)).order_by(Quiz.id).limit(1))
    takers = [_client(app, e) for e in _fresh_learners(small, runs + 1)] if wanted("quiz submission") else []
    form = {"attempt_no": "1", "quiz_version": str(quiz.id)}
    for q in quiz.questions:
        form[f"q_{q.key}"] = [o["id"] for o in q.options if o["correct"]][
            : (None if q.kind == "multiple" else 1)
        ]
    results.append(
        measure(
            "quiz submission",
            lambda i: ok(
                takers[i + 1].post(f"/learn/offerings/{small}/quizzes/{quiz.key}", data=form), (302,)
            ),
            runs,
            counter,
        )
    )

    results += _staff_scenarios(app, runs, counter, measure, small, large)
    if wanted("certificate PDF (one)"):
        results.append(_certificate_pdf(runs, counter, measure))
    if wanted("bulk issue 200 certificates + ZIP"):
        results.append(_bulk_issue(app, counter))
    return results


def _staff_scenarios(app, runs, counter, measure, small: int, large: int) -> list:  # noqa: ANN001
    results = []
    instructor_email = db.session.scalar(
        select(User.email)
        .join(InstructorAssignment, InstructorAssignment.user_id == User.id)
        .where(InstructorAssignment.offering_id == small)
        .limit(1)
    )
    meeting_id = db.session.scalar(
        select(Meeting.id).where(Meeting.offering_id == small).order_by(Meeting.start_dt)
    )
    roster = _endpoint(app, "imh.meeting_attendance", "imh.attendance_roster", "imh.meeting_roster")
    if roster:
        instructor = _client(app, instructor_email)
        with app.test_request_context():
            roster_url = url_for(roster, offering_id=small, meeting_id=meeting_id)
        results.append(
            measure(
                "instructor roster (200 learners)", lambda _i: ok(instructor.get(roster_url)), runs, counter
            )
        )
    else:
        results.append(
            Result("instructor roster (200 learners)", [], 0, note="page not available in this build")
        )

    coordinator = _coordinator(app)
    matrix = _endpoint(app, "imh.completion_matrix", "imh.offering_matrix", "imh.matrix")
    results += _matrix_scenarios(app, runs, counter, measure, coordinator, matrix, small, large)

    one = _endpoint(app, "imh.export_ce_roster")
    if one:
        with app.test_request_context():
            one_url = url_for(one, offering_id=large, fmt="csv")
        results.append(
            measure(
                "CE roster export (1,000 learners)",
                lambda _i: _drain(coordinator, one_url),
                max(5, runs // 3),
                counter,
                memory=True,
            )
        )
    export = _endpoint(app, "imh.export_ce_roster_all", "imh.ce_roster_all")
    if export:
        with app.test_request_context():
            export_url = url_for(export, fmt="csv")
        results.append(
            measure(
                "CE roster export (all learners)",
                lambda _i: _drain(coordinator, export_url),
                5,
                counter,
                memory=True,
            )
        )
    else:
        results.append(
            Result("CE roster export (all learners)", [], 0, note="export not available in this build")
        )
    return results


#: the matrix's filters and sorts, timed on the 1,000-learner offering (issue 17)
MATRIX_VARIANTS = (
    ("license filter", "?license=LCSW"),
    ("at risk", "?at_risk=y"),
    ("no certificate", "?not_issued=y"),
)
MATRIX_SORTS = tuple(
    f"?sort={key}" + ("&dir=desc" if desc else "")
    for key in ("name", "license", "sessions", "ce", "independent", "certificate", "status")
    for desc in (False, True)
)


def _matrix_scenarios(app, runs, counter, measure, coordinator, endpoint, small: int, large: int) -> list:  # noqa: ANN001, PLR0913
    """The first page of the completion matrix at 200, 1,000 and 5,000 learners in one offering (µs
    per learner in the notes: the cost should follow the page, not the cohort), then on 1,000 with
    each filter, with every sort in turn, and right after a write (the snapshot is rebuilt)."""
    from imh_course.reports.matrix_snapshot import bump_matrix_revision

    names = {"200": small, "1,000": large}
    huge = _offering_by_size(5000)
    if db.session.scalar(select(func.count()).where(Enrolment.offering_id == huge)) == 5000:
        names["5,000"] = huge
    repeat = max(5, runs // 3)
    if not endpoint:
        return [Result(f"completion matrix ({n} learners)", [], 0, note="page not available") for n in names]

    def url(offering_id: int, query: str = "") -> str:
        with app.test_request_context():
            return url_for(endpoint, offering_id=offering_id) + query

    results = []
    for size, offering_id in names.items():
        result = measure(
            f"completion matrix ({size} learners)",
            lambda _i, u=url(offering_id): ok(coordinator.get(u)),  # noqa: B008
            repeat,
            counter,
        )
        if result is not None:
            learners = int(size.replace(",", ""))
            per = result.median * 1000 / learners
            result.note = f"{per:.1f} µs per learner (CPU {result.cpu_median * 1000 / learners:.1f})"
        results.append(result)
    for label, query in MATRIX_VARIANTS:
        results.append(
            measure(
                f"completion matrix (1,000 learners, {label})",
                lambda _i, u=url(large, query): ok(coordinator.get(u)),  # noqa: B008
                repeat,
                counter,
            )
        )
    sorts = [url(large, query) for query in MATRIX_SORTS]
    results.append(
        measure(
            "completion matrix (1,000 learners, each sort in turn)",
            lambda i: ok(coordinator.get(sorts[i % len(sorts)])),
            max(repeat, len(sorts)),
            counter,
        )
    )

    def after_write(_i: int) -> None:
        bump_matrix_revision([large])  # what any write to the offering's records does
        db.session.commit()
        ok(coordinator.get(url(large)))

    results.append(measure("completion matrix (1,000 learners, after a write)", after_write, repeat, counter))
    return results


def _drain(client, url: str) -> int:  # noqa: ANN001
    """Download ``url`` as a browser would, chunk by chunk, keeping nothing: the memory measured is
    the server's, not a copy of the whole file held by the test client."""
    response = ok(client.get(url, buffered=False))
    try:
        return sum(len(chunk) for chunk in response.iter_encoded())
    finally:
        response.close()


def _coordinator(app):  # noqa: ANN001, ANN202
    from imh_course.models.audit_chain import Actor
    from imh_course.operations.accounts import create_user, find_user

    email = "bench-coordinator@example.org"
    if find_user(email) is None:
        create_user(
            Actor.system(),
            email=email,
            full_name="Bench Coordinator",
            roles=[Role.COORDINATOR],
            password=PASSWORD,
        )
        db.session.commit()
    return _client(app, email)


NAMES = (
    "Zoë Ñuñez-Ørsted", "Margaret O'Connell", "José Álvarez", "Aisha Bello", "Łukasz Dvořák",
    "Nguyễn Thị Ánh", "Chloé Dubois-Lefèvre", "Sean Murphy", "Priya Raghunathan", "Kwame Mensah",
)  # fmt: skip


def certificate_facts(i: int):  # noqa: ANN201
    """A realistic CE certificate, different for each ``i`` (name, licence, ID, verification URL),
    so a timing never benefits from anything cached for the previous one."""
    import random

    from imh_course.documents.certificate import CertificateFacts
    from imh_course.rules.completion import CertificateKind

    rng = random.Random(i)
    token = "".join(
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789_-") for _ in range(16)
    )
    return CertificateFacts(
        certificate_id=f"IMH-2026-{i % 10_000:04d}-{token[:4].upper()}",
        version=1,
        kind=CertificateKind.CE,
        learner_name=NAMES[i % len(NAMES)],
        license_type=("LCSW", "LMSW", "LMHC", "LCAT")[i % 4],
        license_number=f"{rng.randrange(0, 999999):06d}",
        provider_name="Society for the Protection and Care of Children (SPCC)",
        board_name="NYS State Board for Social Work",
        provider_number="SW-0000",
        approval_statement=(
            "Society for the Protection and Care of Children (SPCC) is recognized by the New York State "
            "Education Department's State Board for Social Work as an approved provider of continuing "
            "education for licensed social workers #SW-0000."
        ),
        course_title="Infant Mental Health: Theory to Practice",
        offering_label="Fall 2026",
        first_meeting=date(2026, 9, 1),
        last_meeting=date(2026, 11, 10),
        delivery_format="In person",
        ce_hours="16.50",
        face_to_face_hours="16.50",
        independent_hours=f"{5 + rng.random():.2f}",
        issue_date=date(2026, 11, 23),
        coordinator_name="Bench Coordinator",
        verification_url=f"https://imh.example.org/verify/{token}",
    )


def _certificate_pdf(runs, counter, measure):  # noqa: ANN001, ANN202
    import time

    from imh_course.documents._pdf import warm_up
    from imh_course.documents.certificate import render_certificate_pdf

    started = time.perf_counter()
    warm_up()
    warm_s = time.perf_counter() - started
    facts = [certificate_facts(i) for i in range(-1, max(runs, 20))]
    result = measure(
        "certificate PDF (one)", lambda i: render_certificate_pdf(facts[i + 1]), max(runs, 20), counter
    )
    result.note = (
        "a different certificate each run (10 names, 2 of them with Latin Extended letters; licence, ID "
        f"and URL vary). Once per process, parsing the fonts and cutting the working fonts took "
        f"{warm_s:.1f} s "
        "(documents/_pdf.py warm_up(); otherwise paid by the first certificates)"
    )
    return result


def _bulk_issue(app: Flask, counter):  # noqa: ANN001, ANN202
    """Bulk issue on the offering whose 200 learners are all due (``flask imh bench ready``), then
    the ZIP of its certificates: timed once, as the issue can only happen once."""
    import time

    from imh_course.models import Certificate

    name = "bulk issue 200 certificates + ZIP"
    issue, download = (_endpoint(app, "imh.bulk_issue"), _endpoint(app, "imh.certificates_zip_download"))
    ready = db.session.scalar(
        select(Enrolment.offering_id)
        .join(User, User.id == Enrolment.user_id)
        .where(User.email.like("bench-ready-%"))
        .limit(1)
    )
    if not (issue and download and ready):
        missing = (
            "no bench-ready offering (flask imh bench ready)" if issue and download else "page not built"
        )
        return Result(name, [], 0, note=missing)
    coordinator = _coordinator(app)
    with app.test_request_context():
        issue_url = url_for(issue, offering_id=ready)
        zip_url = url_for(download, offering_id=ready)
    ok(coordinator.get(issue_url))
    counter.count = 0
    started, cpu_started = time.perf_counter(), time.thread_time()
    ok(coordinator.post(issue_url, data={"submit": "Go"}))
    issued_s = time.perf_counter() - started
    archive = ok(coordinator.get(zip_url)).get_data()
    total_ms = (time.perf_counter() - started) * 1000
    cpu_ms = (time.thread_time() - cpu_started) * 1000
    db.session.expire_all()
    count = db.session.scalar(
        select(func.count()).select_from(Certificate).where(Certificate.offering_id == ready)
    )
    return Result(
        name,
        [total_ms],
        counter.count,
        cpu_ms=[cpu_ms],
        note=(
            f"{count} certificates issued in {issued_s:.1f} s "
            f"({issued_s * 1000 / max(count, 1):.0f} ms each: eligibility, snapshot, PDF, audit event), "
            f"then a {len(archive) / 1_048_576:.1f} MB ZIP in "
            f"{total_ms / 1000 - issued_s:.1f} s; one run (an issue happens once)"
        ),
    )


__all__ = ["run_scenarios", "certificate_facts"]
