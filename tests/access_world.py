"""The access-matrix world, shared by the access-matrix test and the every-page accessibility test.

One source for who may open what (``EXPECTED``), the seven kinds of person (``PERSONAS``), the
world they act in (``build_world``: the demo offering, a second offering taught by someone else,
and objects owned by the learner) and how a route's URL arguments resolve in it (``path_for``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import select

from imh_course.credentials.keys import create_key
from imh_course.extensions import db
from imh_course.models import Certificate, Course, Offering, OutboxMessage, QuizAttempt, TokenPurpose, User
from imh_course.models.audit_chain import Actor
from imh_course.models.offerings import DeliveryFormat, Term
from imh_course.operations.accounts import create_user
from imh_course.operations.offerings import OfferingData, create_offering
from imh_course.operations.tokens import issue_token
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.integration.authoring_helpers import make_response
from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work
from tests.integration.learner_helpers import exercise_for, quiz_for, readings_for
from tests.integration.lti_helpers import lti_world

PERSONAS = ("anonymous", "learner", "other_learner", "instructor", "other_instructor", "coordinator", "admin")
EMAILS = {
    "learner": "lcsw@example.org",  # owns the attempt, certificate and shared response
    "other_learner": "lmhc@example.org",  # same offering, someone else's objects
    "instructor": "instructor@example.org",  # teaches the demo offering
    "other_instructor": "other-instructor@example.org",  # teaches a different offering only
    "coordinator": "coordinator@example.org",
    "admin": "admin@example.org",
}
#: Static files (CSS, the check-in script) are public by nature and hold nothing personal.
NOT_CHECKED = {"static", "imh.static"}

# fmt: off
#: endpoint -> outcome per persona, in PERSONAS order:
#:              anonymous learner other_learner instructor other_instructor coordinator admin
EXPECTED: dict[str, str] = {
    # Public pages, sign-in and the person's own account
    "imh.change_password":                 "login ok    ok    ok    ok    ok    ok",
    "imh.course_page":                     "ok    ok    ok    ok    ok    ok    ok",
    "imh.forgot_password":                 "ok    ok    ok    ok    ok    ok    ok",
    "imh.healthz":                         "ok    ok    ok    ok    ok    ok    ok",
    "imh.login":                           "ok    ok    ok    ok    ok    ok    ok",
    "imh.logout":                          "login ok    ok    ok    ok    ok    ok",
    "imh.set_password":                    "ok    ok    ok    ok    ok    ok    ok",
    "imh.verify_certificate":              "ok    ok    ok    ok    ok    ok    ok",
    "imh.credential_jwks":                 "ok    ok    ok    ok    ok    ok    ok",
    "imh.credential_status_list":          "ok    ok    ok    ok    ok    ok    ok",
    "imh.verify_credential_page":          "ok    ok    ok    ok    ok    ok    ok",
    # Learner pages (their own enrolment; someone else's objects are 404)
    "imh.attempt_result":                  "login ok    404   403   403   403   403",
    "imh.attest":                          "login ok    ok    403   403   403   403",
    "imh.calendar":                        "login ok    ok    403   403   403   403",
    "imh.download_certificate":            "login ok    404   403   403   403   403",
    "imh.download_credential":             "login ok    404   403   403   403   403",
    "imh.evaluation":                      "login ok    ok    403   403   403   403",
    "imh.exercise":                        "login ok    ok    403   403   403   403",
    "imh.learner_certificates":            "login ok    ok    403   403   403   403",
    "imh.learner_checkin":                 "login ok    ok    403   403   403   403",
    "imh.learner_home":                    "login ok    ok    403   403   403   403",
    "imh.my_data":                         "login ok    ok    403   403   403   403",
    "imh.offering_dashboard":              "login ok    ok    403   403   403   403",
    "imh.profile":                         "login ok    ok    403   403   403   403",
    "imh.quiz":                            "login ok    ok    403   403   403   403",
    "imh.reading_complete":                "login ok    ok    403   403   403   403",
    "imh.session_page":                    "login ok    ok    403   403   403   403",
    "imh.training_log_csv_download":       "login ok    ok    403   403   403   403",
    "imh.training_log_pdf_download":       "login ok    ok    403   403   403   403",
    "imh.transcript":                      "login ok    ok    403   403   403   403",
    # Teaching: the instructor of the offering and coordinators; another instructor gets 404
    "imh.attendance_all_present":          "login 403   403   ok    404   ok    403",
    "imh.attendance_mark":                 "login 403   403   ok    404   ok    403",
    "imh.attendance_roster":               "login 403   403   ok    404   ok    403",
    "imh.participant_report_review":       "login 403   403   ok    404   ok    403",
    "imh.participant_report_upload":       "login 403   403   ok    404   ok    403",
    "imh.checkin_close":                   "login 403   403   ok    404   ok    403",
    "imh.checkin_code":                    "login 403   403   ok    404   ok    403",
    "imh.checkin_display":                 "login 403   403   ok    404   ok    403",
    "imh.checkin_open":                    "login 403   403   ok    404   ok    403",
    "imh.staff_home":                      "login 403   403   ok    ok    ok    403",
    "imh.staff_offering":                  "login 403   403   ok    404   ok    403",
    # Authoring: instructors of the offering only
    "imh.authoring_exercise_edit":         "login 403   403   ok    404   403   403",
    "imh.authoring_exercise_new":          "login 403   403   ok    404   403   403",
    "imh.authoring_exercise_preview":      "login 403   403   ok    404   403   403",
    "imh.authoring_exercise_publish":      "login 403   403   ok    404   403   403",
    "imh.authoring_index":                 "login 403   403   ok    404   403   403",
    "imh.authoring_question_edit":         "login 403   403   ok    404   403   403",
    "imh.authoring_question_new":          "login 403   403   ok    404   403   403",
    "imh.authoring_question_remove":       "login 403   403   ok    404   403   403",
    "imh.authoring_quiz_new":              "login 403   403   ok    404   403   403",
    "imh.authoring_quiz_preview":          "login 403   403   ok    404   403   403",
    "imh.authoring_quiz_publish":          "login 403   403   ok    404   403   403",
    "imh.authoring_quiz_settings":         "login 403   403   ok    404   403   403",
    "imh.authoring_session":               "login 403   403   ok    404   403   403",
    # Reviewing shared exercise responses: instructors of the offering only
    "imh.shared_response_page":            "login 403   403   ok    404   403   403",
    "imh.shared_responses_list":           "login 403   403   ok    404   403   403",
    # Coordinators: offerings, enrolment, records, certificates, exports
    "imh.bulk_issue":                      "login 403   403   403   403   ok    403",
    "imh.certificates_zip_download":       "login 403   403   403   403   ok    403",
    "imh.completion_matrix":               "login 403   403   403   403   ok    403",
    "imh.enrol":                           "login 403   403   403   403   ok    403",
    "imh.enrolment_funding":               "login 403   403   403   403   ok    403",
    "imh.enrolment_invite":                "login 403   403   403   403   ok    403",
    "imh.enrolment_reset_link":            "login 403   403   403   403   ok    403",
    "imh.enrolment_status":                "login 403   403   403   403   ok    403",
    "imh.enrolments":                      "login 403   403   403   403   ok    403",
    "imh.enrolments_lms_sync":             "login 403   403   403   403   ok    403",
    "imh.evaluation_summary_page":         "login 403   403   403   403   ok    403",
    "imh.export_ce_roster":                "login 403   403   403   403   ok    403",
    "imh.export_ce_roster_all":            "login 403   403   403   403   ok    403",
    "imh.export_funder_report":            "login 403   403   403   403   ok    403",
    "imh.export_matrix":                   "login 403   403   403   403   ok    403",
    "imh.exports_page":                    "login 403   403   403   403   ok    403",
    "imh.issue":                           "login 403   403   403   403   ok    403",
    "imh.learner_data_export":             "login 403   403   403   403   ok    403",
    "imh.learner_drilldown":               "login 403   403   403   403   ok    403",
    "imh.learner_erase":                   "login 403   403   403   403   ok    403",
    "imh.meeting_edit":                    "login 403   403   403   403   ok    403",
    "imh.meetings_schedule":               "login 403   403   403   403   ok    403",
    "imh.needs_reissue":                   "login 403   403   403   403   ok    ok",
    "imh.offering_edit":                   "login 403   403   403   403   ok    403",
    "imh.offering_new":                    "login 403   403   403   403   ok    403",
    "imh.reissue":                         "login 403   403   403   403   ok    403",
    "imh.revoke":                          "login 403   403   403   403   ok    403",
    "imh.roster_import":                   "login 403   403   403   403   ok    403",
    "imh.staff_certificates":              "login 403   403   403   403   ok    403",
    "imh.staff_download_certificate":      "login 403   403   403   403   ok    403",
    # Audit trail: coordinators and admins
    "imh.audit_trail":                     "login 403   403   403   403   ok    ok",
    # Account administration: admins only
    "imh.admin_account":                   "login 403   403   403   403   403   ok",
    "imh.admin_account_link":              "login 403   403   403   403   403   ok",
    "imh.admin_account_new":               "login 403   403   403   403   403   ok",
    "imh.admin_account_sign_out":          "login 403   403   403   403   403   ok",
    "imh.admin_account_status":            "login 403   403   403   403   403   ok",
    "imh.admin_accounts":                  "login 403   403   403   403   403   ok",
    "imh.admin_home":                      "login 403   403   403   403   403   ok",
    # Outbox: coordinators and admins see it and retry; reading a message (it may hold a link): admins
    "imh.outbox":                          "login 403   403   403   403   ok    ok",
    "imh.outbox_retry":                    "login 403   403   403   403   ok    ok",
    "imh.outbox_message":                  "login 403   403   403   403   403   ok",
    # LTI: the platform's login and launch refuse a request without its signed proof (403 / 401);
    # the tool's public keys are public; the one-time ticket is refused when forged; admins register
    "imh.lti_jwks":                        "ok    ok    ok    ok    ok    ok    ok",
    "imh.lti_login":                       "403   403   403   403   403   403   403",
    "imh.lti_launch":                      "401   401   401   401   401   401   401",
    "imh.lti_continue":                    "403   403   403   403   403   403   403",
    "imh.lti_deep_link":                   "login ok    ok    ok    ok    ok    ok",
    "imh.lti_admin":                       "login 403   403   403   403   403   ok",
    "imh.lti_platform_edit":               "login 403   403   403   403   403   ok",
    "imh.lti_platform_new":                "login 403   403   403   403   403   ok",
    "imh.lti_resource_link":               "login 403   403   403   403   403   ok",
    "imh.lti_roster_sync":                 "login 403   403   403   403   403   ok",
    "imh.lti_setup":                       "login 403   403   403   403   403   ok",
    "imh.lti_user_link":                   "login 403   403   403   403   403   ok",
}
# fmt: on


@dataclass
class World:
    values: dict[str, object]


def _second_offering(instructor_id: int) -> int:
    course = db.session.scalar(select(Course).order_by(Course.id).limit(1))
    taken = {(o.term, o.year) for o in db.session.scalars(select(Offering))}
    term, year = next((t, y) for y in range(2030, 2040) for t in Term if (t, y) not in taken)
    offering = create_offering(
        Actor.system(),
        course,
        OfferingData(
            term=term,
            year=year,
            format=DeliveryFormat.IN_PERSON,
            location="Room 2, Family Center",
            timezone="America/New_York",
            instructor_ids=(instructor_id,),
        ),
    )
    db.session.commit()
    return offering.id


def build_world(app, client, demo) -> World:  # noqa: ANN001
    """The demo cohort plus an admin, a second offering with its own instructor, and the learner's objects.

    ``demo`` is the cohort of ``tests.conftest.build_demo``; ``client`` is a signed-out test client
    (its form posts run with CSRF checks off for the duration, whatever the app's setting).
    """
    csrf = app.config["WTF_CSRF_ENABLED"]
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        return _build_world(app, client, demo)
    finally:
        app.config["WTF_CSRF_ENABLED"] = csrf


def _sign_in(client, persona: str) -> None:  # noqa: ANN001
    response = client.post("/login", data={"email": EMAILS[persona], "password": TEST_PASSWORD})
    assert response.status_code == 302, f"sign-in failed for {persona}"


def _build_world(app, client, demo) -> World:  # noqa: ANN001
    system = Actor.system()
    create_user(
        system, email=EMAILS["admin"], full_name="Ada Admin", roles=[Role.ADMIN], password=TEST_PASSWORD
    )
    other = create_user(
        system, email=EMAILS["other_instructor"], full_name="Otto Other", roles=[Role.INSTRUCTOR],
        password=TEST_PASSWORD,
    )  # fmt: skip
    create_key(system)  # the Open Badges signing key (`flask imh credentials keys create`)
    db.session.commit()
    _second_offering(other.id)

    attend(demo.offering_id, demo.lcsw_id, 10)
    finish_independent_work(demo.offering_id, demo.lcsw_id)
    _sign_in(client, "learner")
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, demo.lcsw_id).status_code == 302
    client.post("/logout")
    _sign_in(client, "coordinator")
    issued = client.post(f"/staff/offerings/{demo.offering_id}/certificates/{demo.lcsw_id}/issue")
    assert issued.status_code == 302
    client.post("/logout")

    quiz = quiz_for(1)
    exercise = exercise_for(1)
    certificate = db.session.scalar(select(Certificate).where(Certificate.user_id == demo.lcsw_id))
    attempt = db.session.scalar(select(QuizAttempt).where(QuizAttempt.user_id == demo.lcsw_id))
    response = make_response(demo.lcsw_id, demo.offering_id, exercise)
    token = issue_token(db.session.get(User, demo.lcsw_id), TokenPurpose.INVITE)
    db.session.commit()
    meeting = sorted(db.session.get(Offering, demo.offering_id).meetings, key=lambda m: m.start_dt)[0]
    lti = lti_world(demo.lcsw_id)
    return World(
        values={
            "offering_id": demo.offering_id,
            "meeting_id": meeting.id,
            "learner_id": demo.lcsw_id,
            "user_id": demo.lcsw_id,
            "number": 1,
            "attempt_id": attempt.id,
            "response_id": response.id,
            "public_id": certificate.public_id,
            "qkey": quiz.questions[0].key,
            "fmt": "csv",
            "action": "publish",
            "token": token,
            "message_id": db.session.scalar(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(1)),
            "reading_key": readings_for(1)[0].key,
            "exercise_key": exercise.key,
            "quiz_key": quiz.key,
            **lti,
        }
    )


def path_for(app, rule, world: World) -> str:  # noqa: ANN001
    """The URL of ``rule`` with its arguments taken from the world."""
    values = {}
    for name in rule.arguments:
        if name == "key":
            kind = "quiz_key" if "/quizzes/" in rule.rule else "exercise_key"
            kind = "reading_key" if "/readings/" in rule.rule else kind
            values[name] = world.values[kind]
        else:
            if name not in world.values:
                raise AssertionError(f"{rule.endpoint}: no test value for <{name}>; add one to build_world")
            values[name] = world.values[name]
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def outcome(response) -> str:  # noqa: ANN001
    """``ok``, ``login``, ``401``/``403``/``404`` or ``error N`` for a test-client response."""
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/login?next=" in location:
        return "login"
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    if response.status_code >= 405:
        return f"error {response.status_code}"
    return "ok"


def module_rules(app) -> list:  # noqa: ANN001
    """Every route but static files: GET routes first, sign-out last."""
    return sorted(
        (r for r in app.url_map.iter_rules() if r.endpoint not in NOT_CHECKED),
        key=lambda r: (r.methods is not None and "GET" not in r.methods, r.endpoint == "imh.logout", r.rule),
    )


def expected(endpoint: str, persona: str) -> str:
    """The expected outcome of ``endpoint`` for ``persona`` (a cell of ``EXPECTED``)."""
    return EXPECTED[endpoint].split()[PERSONAS.index(persona)]
