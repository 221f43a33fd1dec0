"""The fast matrix, CE roster and exports give exactly what the previous implementation gave.

``matrix_reference`` is a frozen copy of the per-cell implementation (before issue 9). Here two
offerings get a random cohort with every kind of record the rules distinguish — each attendance
status, odd times to the second, open sign-ins, a meeting that is not CE-eligible, sessions without
a meeting, readings done on another version, retired content, drafts, failed and repeated quizzes,
stale attestations, revoked and superseded certificates, withdrawn and erased learners, learners in
both offerings — and every row, every chart count and every export byte must match the reference.
"""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from collections.abc import Iterator
from dataclasses import astuple, dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from imh_course.documents.exports import csv_stream, xlsx_bytes
from imh_course.extensions import db
from imh_course.models import (
    AttendanceMethod,
    AttendanceRecord,
    Attestation,
    Certificate,
    CertificateStatus,
    Enrolment,
    EnrolmentStatus,
    EvaluationReceipt,
    Exercise,
    ExerciseResponse,
    Meeting,
    Offering,
    Quiz,
    QuizAttempt,
    Reading,
    ReadingCompletion,
    ResponseStatus,
    User,
)
from imh_course.models.curriculum import CourseSession
from imh_course.models.offerings import BoardApproval, DeliveryFormat, Funding, Term
from imh_course.models.types import utcnow
from imh_course.operations.certificates import ATTESTATION_STALE
from imh_course.reports import charts, exports_data
from imh_course.reports.matrix_data import iter_offering_rows, load_matrix, policies
from imh_course.rules.completion import ATTESTATION_MISSING, EVALUATION_MISSING, CertificateKind
from imh_course.rules.credit import AttendanceStatus
from imh_course.rules.licenses import Board
from tests.integration import matrix_reference as reference
from tests.integration.coordinator_helpers import current, enrol_many, meetings_of

LICENSES = ["LCSW", "LMSW", "LMHC", "RN", "Other", None]


@dataclass
class Cohort:
    offering_ids: list[int]


def _second_offering(course_id: int) -> Offering:
    """Chicago time, meetings for 7 of the 11 sessions (one not CE-eligible), social work only."""
    offering = Offering(
        course_id=course_id,
        term=Term.SPRING,
        year=2031,
        format=DeliveryFormat.IN_PERSON,
        timezone="America/Chicago",
    )
    db.session.add(offering)
    db.session.flush()
    sessions = db.session.scalars(
        select(CourseSession).where(CourseSession.course_id == course_id).order_by(CourseSession.number)
    ).all()
    start = utcnow().replace(microsecond=0) - timedelta(weeks=4, hours=3)
    for i, session in enumerate(sessions):
        if session.number in (3, 9, 10, 11):
            continue
        begin = start + timedelta(weeks=i)
        db.session.add(
            Meeting(
                offering_id=offering.id,
                session_id=session.id,
                start_dt=begin,
                end_dt=begin + timedelta(minutes=90, seconds=30),
                is_ce_eligible=session.number != 5,
            )
        )
    db.session.add(
        BoardApproval(
            offering_id=offering.id, board=Board.SOCIAL_WORK, provider_number="SW-0001", statement="Approved."
        )
    )
    db.session.commit()
    return offering


def _attendance(
    rng: random.Random, meeting: Meeting, user_id: int, diligent: bool
) -> AttendanceRecord | None:
    start, end = meeting.start_dt, meeting.end_dt
    seconds = timedelta(seconds=rng.randrange(0, 3 * 3600))
    shapes = {
        "present": (AttendanceStatus.PRESENT, start, end),
        "late": (AttendanceStatus.LATE, start + seconds / 3, end),
        "left_early": (AttendanceStatus.LEFT_EARLY, start, end - seconds / 4),
        "wide": (AttendanceStatus.PRESENT, start - seconds, end + seconds),
        "tiny": (AttendanceStatus.LATE, end - timedelta(minutes=14, seconds=59), end),
        "absent": (AttendanceStatus.ABSENT, None, None),
        "absent_timed": (AttendanceStatus.ABSENT, start, end),
        "excused": (AttendanceStatus.EXCUSED, None, None),
        "open": (AttendanceStatus.PRESENT, start + seconds / 9, None),
        "inverted": (AttendanceStatus.LATE, end, start),
    }
    choice = "present" if diligent else rng.choice([*shapes, "none", "none", "present", "present"])
    if choice == "none":
        return None
    status, arrived, departed = shapes[choice]
    return AttendanceRecord(
        meeting_id=meeting.id,
        user_id=user_id,
        status=status,
        arrived_dt=arrived,
        departed_dt=departed,
        method=AttendanceMethod.INSTRUCTOR,
    )


def _work(rng: random.Random, offering: Offering, user_id: int, every: bool) -> None:
    readings, exercises, quizzes = (current(m, offering) for m in (Reading, Exercise, Quiz))
    for reading in readings:
        if every or rng.random() < 0.6:
            version = rng.choice(readings) if rng.random() < 0.2 else reading  # minutes of another "version"
            db.session.add(
                ReadingCompletion(
                    user_id=user_id, offering_id=offering.id, reading_key=reading.key, reading_id=version.id
                )
            )
    if rng.random() < 0.3:  # a reading retired since
        db.session.add(
            ReadingCompletion(
                user_id=user_id,
                offering_id=offering.id,
                reading_key="retired-reading",
                reading_id=readings[0].id,
            )
        )
    for exercise in exercises:
        if every or rng.random() < 0.6:
            submitted = every or rng.random() < 0.8
            db.session.add(
                ExerciseResponse(
                    user_id=user_id,
                    offering_id=offering.id,
                    exercise_key=exercise.key,
                    exercise_id=exercise.id,
                    body="text",
                    body_html="<p>text</p>",
                    status=ResponseStatus.SUBMITTED if submitted else ResponseStatus.DRAFT,
                )
            )
    for quiz in [*quizzes, None]:
        key = quiz.key if quiz else "retired-quiz"
        tries = 1 if every else rng.choice([0, 0, 1, 1, 2, 3])
        for attempt in range(1, tries + 1):
            passed = (every and attempt == tries) or rng.random() < 0.5
            version = rng.choice(quizzes) if rng.random() < 0.3 else (quiz or quizzes[0])
            db.session.add(
                QuizAttempt(
                    user_id=user_id,
                    offering_id=offering.id,
                    quiz_key=key,
                    quiz_id=version.id,
                    attempt_no=attempt,
                    answers={},
                    points=1 if passed else 0,
                    max_points=1,
                    percent=100 if passed else 0,
                    passed=passed,
                )
            )


def _certificates(
    rng: random.Random, offering_id: int, user_id: int, kind: CertificateKind, *, issue: bool = True
) -> None:
    """Random certificate versions; ``issue=False`` draws the same numbers (the rest of the cohort stays
    the same) but issues none."""
    shape = rng.choice(["none", "none", "valid", "revoked", "superseded"])
    statuses = {
        "none": [],
        "valid": [CertificateStatus.VALID],
        "revoked": [CertificateStatus.REVOKED],
        "superseded": [CertificateStatus.SUPERSEDED, CertificateStatus.VALID],
    }[shape]
    for version, status in enumerate(statuses, start=1):
        public_id = hashlib.sha256(f"{offering_id}-{user_id}-{version}".encode()).hexdigest()[:32]
        certificate = Certificate(
            public_id=public_id,
            offering_id=offering_id,
            user_id=user_id,
            version=version,
            kind=kind,
            facts={},
            facts_hash="0" * 64,
            pdf=b"%PDF",
            status=status,
            issued_dt=utcnow() - timedelta(days=rng.randrange(1, 90), seconds=rng.randrange(86400)),
        )
        if issue:
            db.session.add(certificate)


def _outcomes(
    rng: random.Random, offering: Offering, user_id: int, ce_minutes: dict[int, int], diligent: bool
) -> None:
    if diligent or rng.random() < 0.6:
        db.session.add(EvaluationReceipt(offering_id=offering.id, user_id=user_id))
    if diligent or rng.random() < 0.7:
        stale = 0 if diligent else rng.choice([0, 0, 0, 15])  # some attested, then their record changed
        shown = ce_minutes.get(user_id, 0) + stale
        db.session.add(
            Attestation(
                offering_id=offering.id, user_id=user_id, statement="I attest.", ce_minutes_shown=shown
            )
        )


def _profiles(rng: random.Random, user_ids: list[int], diligent: set[int]) -> None:
    for uid in user_ids:
        user = db.session.get(User, uid)
        profile = user.profile
        profile.license_type = rng.choice(LICENSES)
        profile.license_number = (
            "012345" if uid in diligent else rng.choice(["012345", "000001", "", "  ", None])
        )
        profile.discipline = rng.choice(["Social work", "social work", " ", None, "Nursing"])
        if rng.random() < 0.15:
            profile.certificate_name = "   "  # blank: the account name is printed instead
        if uid == user_ids[0] or rng.random() < 0.05:
            user.erased_dt = utcnow()


def build_cohort(seed: int, demo) -> Cohort:  # noqa: ANN001
    rng = random.Random(seed)
    first = db.session.get(Offering, demo.offering_id)
    second = _second_offering(first.course_id)
    fundings = list(Funding)
    plan = {
        first: enrol_many(first.id, 14, prefix=f"a{seed}x"),
        second: enrol_many(second.id, 9, prefix=f"b{seed}x", funding=Funding.GRANT_FUNDED),
    }
    # learners in both offerings, and the demo's three learners in the second one too
    both = enrol_many(first.id, 3, prefix=f"c{seed}x", funding=Funding.SCHOLARSHIP)
    for uid in [*both, demo.lcsw_id, demo.lmhc_id, demo.nurse_id]:
        db.session.add(Enrolment(offering_id=second.id, user_id=uid, funding=rng.choice(fundings)))
    db.session.commit()
    plan[first] += [*both, demo.lcsw_id, demo.lmhc_id, demo.nurse_id]
    plan[second] += [*both, demo.lcsw_id, demo.lmhc_id, demo.nurse_id]
    everyone = sorted({uid for ids in plan.values() for uid in ids})
    # a third did everything asked of them: eligible rows, complete rows, certificates due
    diligent = set(rng.sample(everyone, len(everyone) // 3))
    _profiles(rng, everyone, diligent)
    for offering, ids in plan.items():
        meetings = meetings_of(offering.id)
        for uid in ids:
            for meeting in meetings:
                record = _attendance(rng, meeting, uid, uid in diligent)
                if record is not None:
                    db.session.add(record)
            _work(rng, offering, uid, uid in diligent or rng.random() < 0.1)
            if rng.random() < 0.1:
                enrolment = db.session.scalar(
                    select(Enrolment).where(Enrolment.offering_id == offering.id, Enrolment.user_id == uid)
                )
                enrolment.status = EnrolmentStatus.WITHDRAWN
        db.session.commit()
        rows = reference.load_matrix(offering).rows
        ce_minutes = {r.user_id: r.ce_minutes for r in rows}
        # a diligent learner whose certificate of completion is due, not issued (the CE roster's case)
        due = next(
            (
                r.user_id
                for r in rows
                if r.kind is CertificateKind.COMPLETION
                and r.user_id in diligent
                and r.completion.missing == (EVALUATION_MISSING,)  # diligent learners submit it below
            ),
            None,
        )
        for uid in ids:
            _outcomes(rng, offering, uid, ce_minutes, uid in diligent)
            kind = rng.choice(list(CertificateKind))
            _certificates(rng, offering.id, uid, kind, issue=uid != due)
        db.session.commit()
    db.session.expire_all()
    return Cohort([first.id, second.id])


@pytest.fixture(params=[9, 2026])
def cohort(request, app, demo) -> Cohort:  # noqa: ANN001, ARG001
    return build_cohort(request.param, demo)


# --- comparing ------------------------------------------------------------------------------------------
def _learner(info) -> tuple:  # noqa: ANN001
    fields = ("user_id", "name", "email", "discipline", "license_type", "license_number", "funding", "status")
    return tuple(getattr(info, f) for f in fields) + (info.erased,)


def _cell(cell) -> tuple:  # noqa: ANN001
    s = cell.session
    return (
        (s.id, s.number, s.title),
        cell.meeting_id,
        cell.status,
        cell.attended_minutes,
        cell.credited_minutes,
        bool(cell.awaiting_sign_out),
        cell.is_past,
        cell.readings_done,
        cell.readings_total,
        cell.exercises_submitted,
        cell.exercises_total,
        cell.quizzes_passed,
        cell.quizzes_attempted,
        cell.quizzes_total,
    )


def snapshot(row) -> tuple:  # noqa: ANN001
    """Everything a row says, through the attributes every caller reads."""
    certificates = tuple((c.public_id, c.version, c.kind, c.status, c.issued_dt) for c in row.certificates)
    valid = row.valid_certificate
    return (
        _learner(row.learner),
        tuple(_cell(c) for c in row.cells),
        row.ce_minutes,
        row.ce_hours,
        row.attended_minutes,
        row.independent_minutes,
        row.independent_hours,
        row.meetings_credited,
        row.evaluation_submitted,
        row.attestation,
        row.completion,
        row.kind,
        row.approval,
        row.eligibility,
        certificates,
        row.at_risk,
        row.user_id,
        row.active,
        valid.public_id if valid else None,
        row.certificate_status,
        row.due,
        row.ce_hours_text,
        row.independent_hours_text,
        row.face_to_face_hours_text,
        row.awaiting_sign_out,
    )


def _frame(frame) -> tuple:  # noqa: ANN001
    def items(found) -> tuple:  # noqa: ANN001
        return tuple((i.key, i.session_id, i.minutes) for i in found)

    return (
        frame.offering_id,
        frame.timezone,
        tuple((s.id, s.number, s.title) for s in frame.sessions),
        frame.meetings,
        items(frame.readings),
        items(frame.exercises),
        items(frame.quizzes),
        frame.approvals,
    )


def _offerings(ids: list[int]) -> list[Offering]:
    return [db.session.get(Offering, oid) for oid in ids]


def test_matrix_rows_equal_the_reference(app, cohort):
    """Every row of load_matrix equals the per-cell reference, field by field and cell by cell."""
    now = utcnow()
    for offering in _offerings(cohort.offering_ids):
        new = load_matrix(offering, now=now)
        old = reference.load_matrix(offering, now=now)
        assert len(new.rows) == len(old.rows) > 10
        assert [snapshot(r) for r in new.rows] == [snapshot(r) for r in old.rows]
        assert _frame(new.frame) == _frame(old.frame)
        assert {r.ce_minutes for r in new.rows} != {0}, "the cohort has credit to compare"


def test_chart_counts_equal_the_reference(app, cohort):
    """The attendance chart's counts and the completion funnel match the reference."""
    now = utcnow()
    _policy, completion = policies()
    for offering in _offerings(cohort.offering_ids):
        new, old = load_matrix(offering, now=now), reference.load_matrix(offering, now=now)
        counts = [astuple(c) for c in charts.session_counts(new.frame, new.rows)]
        assert counts == [astuple(c) for c in reference.session_counts(old.frame, old.rows)]
        assert charts.funnel_bars(new.rows, completion.min_meetings) == reference.funnel_bars(
            old.rows, completion.min_meetings
        )


def _decided_by_completion(row) -> bool:  # noqa: ANN001
    """A certificate-of-completion row (read without independent work) that lacks nothing but what the
    completion policy asks: evaluation submitted, attendance attested. Its independent work decides
    its eligibility, so the CE roster reads it in full."""
    steps = {EVALUATION_MISSING, ATTESTATION_MISSING, ATTESTATION_STALE}
    return (
        row.kind is CertificateKind.COMPLETION
        and not row.eligibility.eligible
        and steps.isdisjoint(row.eligibility.reasons)
    )


def _standing(row) -> tuple:  # noqa: ANN001
    """What the CE roster says of a row's certificate (the reasons of an ineligible one may differ)."""
    return row.user_id, row.kind, row.eligibility.eligible, row.certificate_status, row.due


@pytest.mark.parametrize("chunk", [1, 4, 500])
@pytest.mark.parametrize("with_independent", [True, False])
def test_streamed_rows_of_several_offerings_equal_the_reference(app, cohort, chunk, with_independent):
    """Rows streamed across offerings in chunks (a chunk may span two) equal the reference's rows.

    Without independent work (CE roster), a row equals the reference's row without it, unless its
    certificate of completion turns on that work: then it equals the full row. Either way, whether a
    row is eligible is what the full row says."""
    offerings = _offerings(cohort.offering_ids)
    streamed = list(iter_offering_rows(offerings, chunk=chunk, with_independent=with_independent))
    new = [(offering.id, snapshot(row)) for offering, _frame, row in streamed]
    full = [(o, row) for o in offerings for _frame, row in reference.iter_rows(o)]
    if with_independent:
        assert new == [(offering.id, snapshot(row)) for offering, row in full]
        return
    partial = [row for o in offerings for _frame, row in reference.iter_rows(o, with_independent=False)]
    old = [
        (offering.id, snapshot(whole if _decided_by_completion(row) else row))
        for (offering, whole), row in zip(full, partial, strict=True)
    ]
    assert new == old
    assert [_standing(row) for _o, _f, row in streamed] == [_standing(row) for _o, row in full]
    assert any(_decided_by_completion(row) for row in partial), "some rows are read in full"


# --- exports, byte for byte ----------------------------------------------------------------------------
def _xlsx_parts(data: bytes) -> dict[str, bytes]:
    """The workbook's parts, without the creation time in docProps/core.xml."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def _expected(header, rows, fmt: str, sheet: str) -> bytes:  # noqa: ANN001
    rows = list(rows)
    if fmt == "csv":
        return "".join(csv_stream(header, rows)).encode("utf-8")
    return xlsx_bytes(header, rows, sheet_name=sheet)


def _ce_roster(offerings: list[Offering]) -> Iterator[list[object]]:
    """The reference's CE roster lines, made from the full rows (independent work read): the roster
    reads less, but must say what the full rows say (a certificate of completion's eligibility)."""
    for offering in offerings:
        for frame, row in reference.iter_rows(offering):
            yield reference.ce_roster_line(offering, frame, row)


def _exports(offering_ids: list[int]) -> Iterator[tuple[str, object, object, str]]:
    """(url, header, reference rows, sheet name) of every export that reads the matrix."""
    every = db.session.scalars(select(Offering).order_by(Offering.year.desc(), Offering.id.desc())).all()
    yield (
        "/staff/exports/ce-roster",
        exports_data.CE_ROSTER_HEADER,
        lambda: _ce_roster(every),
        "CE roster",
    )
    for offering in _offerings(offering_ids):
        base = f"/staff/offerings/{offering.id}/exports"
        label = offering.label
        yield (
            f"{base}/ce-roster",
            exports_data.CE_ROSTER_HEADER,
            lambda o=offering: _ce_roster([o]),
            f"CE roster {label}",
        )
        yield (
            f"{base}/completion-matrix",
            reference.matrix_header(reference.load_frame(offering)),
            lambda o=offering: reference.matrix_rows(o),
            f"Completion {label}",
        )
        yield (
            f"{base}/funder-report",
            exports_data.FUNDER_HEADER,
            lambda o=offering: reference.funder_rows(o),
            f"Funders {label}",
        )


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_exports_are_byte_identical_to_the_reference(app, client, cohort, login, fmt):
    """CE roster (one offering and all), completion matrix and funder report: the same bytes."""
    login("coordinator@example.org")
    checked = 0
    for url, header, rows, sheet in list(_exports(cohort.offering_ids)):
        response = client.get(f"{url}.{fmt}")
        assert response.status_code == 200, url
        got = response.get_data()
        with app.test_request_context():
            want = _expected(header, rows(), fmt, sheet)
        if fmt == "csv":
            assert got == want, url
        else:
            assert _xlsx_parts(got) == _xlsx_parts(want), url
        checked += 1
    assert checked == 7


def test_reference_rows_are_not_trivial(app, cohort):
    """The cohort exercises what the rules distinguish (else the comparisons above prove little)."""
    rows = [r for o in _offerings(cohort.offering_ids) for r in reference.load_matrix(o).rows]
    cells = [c for r in rows for c in r.cells]
    assert {c.status for c in cells} >= set(AttendanceStatus) | {None}
    assert any(c.awaiting_sign_out for c in cells) and any(not c.meeting_id for c in cells)
    assert any(0 < c.credited_minutes < c.attended_minutes for c in cells)
    assert {r.attestation for r in rows} == {"current", "stale", "missing"}
    assert {r.certificate_status for r in rows} >= {"valid", "revoked"}
    assert any(r.eligibility.eligible for r in rows) and any(r.at_risk for r in rows)
    assert any(r.due for r in rows) and any(r.completion.complete for r in rows)
    assert {r.kind for r in rows if r.eligibility.eligible} == set(CertificateKind)
    # due certificates of completion: the CE roster says "not issued (eligible)" only if it reads their work
    assert any(
        r.kind is CertificateKind.COMPLETION and r.eligibility.eligible and not r.certificates for r in rows
    )
    assert any(not r.active for r in rows) and any(r.learner.erased for r in rows)
    assert isinstance(rows[0].learner.funding, Funding)
