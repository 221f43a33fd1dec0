"""CE on every surface: hours are called CE only where CE will be certified (issue 13).

Generated from ``app.url_map``: every GET route is either rendered here for each licence situation
(a licensee the offering's social-work approval covers; a nurse; an LCAT, whose board did not approve
this offering; no licence; a covered licensee with nothing credited) or listed in ``EXEMPT`` with
the reason it shows no learner's hours. A new route that is neither fails
``test_every_get_route_is_checked_or_exempt``. Learner pages are requested as the learner, staff
pages and exports (HTML, CSV, XLSX, PDF, ZIP, JSON) as a coordinator, /verify anonymously; each is
read back by content. The independent-learning ledger is never labelled CE, anywhere.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import select

from imh_course.credentials.keys import create_key
from imh_course.extensions import db
from imh_course.models import Certificate, CertificateStatus, Meeting
from imh_course.models.audit_chain import Actor
from imh_course.security.roles import Role
from tests.integration.certificate_helpers import pdf_text
from tests.integration.learner_helpers import exercise_for, quiz_for
from tests.integration.vocabulary_helpers import (
    COORDINATOR,
    SITUATIONS,
    Situation,
    as_json,
    build_offering,
    enrol,
    first_attempt,
    page_text,
    table_rows,
    zip_pdf_texts,
)

#: Learner pages: all of them, as the learner.
LEARNER = {
    "imh.attempt_result", "imh.calendar", "imh.download_certificate", "imh.download_credential",
    "imh.evaluation", "imh.exercise",
    "imh.learner_certificates", "imh.learner_checkin", "imh.learner_home", "imh.my_data",
    "imh.offering_dashboard", "imh.profile", "imh.quiz", "imh.session_page",
    "imh.training_log_csv_download", "imh.training_log_pdf_download", "imh.transcript",
}  # fmt: skip
#: Staff pages and exports that show this learner's hours, as a coordinator.
STAFF = {
    "imh.attendance_roster", "imh.bulk_issue", "imh.certificates_zip_download", "imh.completion_matrix",
    "imh.export_ce_roster", "imh.export_ce_roster_all", "imh.export_funder_report", "imh.export_matrix",
    "imh.learner_data_export", "imh.learner_drilldown", "imh.needs_reissue", "imh.staff_certificates",
    "imh.staff_download_certificate",
}  # fmt: skip
PUBLIC = {"imh.verify_certificate"}
#: GET routes that show no learner's hours, with the reason.
EXEMPT: dict[str, str] = {
    "static": "the host's static files",
    "imh.static": "the module's CSS and scripts",
    "imh.course_page": "public description of the course: no one's hours",
    "imh.healthz": "health check",
    "imh.credential_jwks": "the public signing keys",
    "imh.credential_status_list": "one revocation bit per credential, no one's hours",
    "imh.verify_credential_page": "the form to paste a credential (what it states: test_open_badges.py)",
    "imh.login": "sign-in form",
    "imh.forgot_password": "password reset form",
    "imh.set_password": "password form",
    "imh.change_password": "password form",
    "imh.audit_trail": "raw audit events (before/after values), not a ledger",
    "imh.admin_home": "account counts",
    "imh.admin_accounts": "names, emails, roles, status, last sign-in, number of enrolments",
    "imh.admin_account": "one account's details and its offerings, no hours",
    "imh.admin_account_new": "account form",
    "imh.admin_account_status": "disable/enable form",
    "imh.outbox": "email recipients, subjects and delivery status",
    "imh.lti_admin": "LMS platforms and links (admins), no hours",
    "imh.lti_platform_edit": "LMS platform form",
    "imh.lti_platform_new": "LMS platform form",
    "imh.lti_resource_link": "which offering an LMS link opens",
    "imh.lti_setup": "what to paste into the LMS (URLs and keys)",
    "imh.lti_user_link": "an LMS identity and the account it is linked to",
    "imh.lti_jwks": "the tool's public keys (JSON)",
    "imh.lti_login": "the LMS's login initiation (redirect or refusal)",
    "imh.lti_continue": "one-time hand-over to a top-level window (redirect or refusal)",
    "imh.outbox_message": "one email's text (reset, invitation or certificate notice)",
    "imh.checkin_code": "the rotating check-in code",
    "imh.checkin_display": "the check-in code screen",
    "imh.participant_report_upload": "the participant report upload form (its preview, a POST, says "
    "'minutes credited' as the roster does, never CE)",
    "imh.enrol": "enrolment form",
    "imh.enrolments": "names, funding and enrolment status only",
    "imh.enrolment_status": "withdraw/reinstate form",
    "imh.evaluation_summary_page": "anonymous ratings and comments",
    "imh.exports_page": "links to the exports (each checked here)",
    "imh.learner_erase": "erasure form",
    "imh.meeting_edit": "meeting times form",
    "imh.meetings_schedule": "schedule form",
    "imh.offering_edit": "offering form",
    "imh.offering_new": "offering form",
    "imh.roster_import": "CSV import form",
    "imh.staff_home": "list of offerings",
    "imh.staff_offering": "the schedule (which meetings are CE-eligible), no learner's hours",
    "imh.shared_response_page": "an exercise response and its feedback (instructors only)",
    "imh.shared_responses_list": "shared responses (instructors only)",
    **{
        e: "content authoring (instructors only)"
        for e in (
            "imh.authoring_exercise_edit",
            "imh.authoring_exercise_new",
            "imh.authoring_exercise_preview",
            "imh.authoring_index",
            "imh.authoring_question_edit",
            "imh.authoring_question_new",
            "imh.authoring_quiz_new",
            "imh.authoring_quiz_preview",
            "imh.authoring_quiz_settings",
            "imh.authoring_session",
        )
    },  # fmt: skip
}
#: Pages whose subject is the learner's face-to-face ledger: they must name it, with its number.
LEDGER_PAGES = {"imh.offering_dashboard", "imh.transcript", "imh.learner_certificates", "imh.learner_home"}

#: A CE label next to a number ("CE contact hours: 16.50", "CE minutes credited 90", "16.50 CE hours").
CE_NUMBER = re.compile(
    r"\bCE (?:contact )?(?:hours|minutes)\b(?: credited)?\W{0,4}(\d+(?:\.\d+)?)"
    r"|(\d+(?:\.\d+)?) CE (?:contact )?(?:hours|minutes)\b"
)
NOT_CE = re.compile(r"not (?:eligible for )?CE|not CE|never CE|no CE", re.IGNORECASE)


def get_rules(app) -> list:  # noqa: ANN001
    return [r for r in app.url_map.iter_rules() if r.methods and "GET" in r.methods]


def test_every_get_route_is_checked_or_exempt(app):
    endpoints = {r.endpoint for r in get_rules(app)}
    checked = LEARNER | STAFF | PUBLIC
    assert not checked & set(EXEMPT)
    assert endpoints - checked - set(EXEMPT) == set(), "check the new route here or exempt it with a reason"
    assert (checked | set(EXEMPT)) - endpoints == set(), "a listed route no longer exists"


@dataclass
class World:
    offering_id: int
    meeting_id: int
    ids: dict[str, int]  # situation key -> user id
    certificates: dict[str, str]  # situation key -> public id of the valid certificate


@pytest.fixture
def world(app, client, content, make_user, login) -> World:  # noqa: ARG001
    instructor = make_user(Role.INSTRUCTOR, email="v-instructor@example.org")
    make_user(Role.COORDINATOR, email=COORDINATOR)
    create_key(Actor.system())  # the Open Badges signing key
    db.session.commit()
    offering_id = build_offering(instructor.id)
    ids = {}
    for s in SITUATIONS:
        user = make_user(
            email=s.email, full_name=s.name, license_type=s.license_type, license_number=s.license_number
        )
        ids[s.key] = user.id
        enrol(offering_id, user.id, s)
    login(COORDINATOR)
    for uid in ids.values():
        client.post(f"/staff/offerings/{offering_id}/certificates/{uid}/issue")
    client.post("/logout")
    certificates = {
        key: c.public_id
        for key, uid in ids.items()
        for c in db.session.scalars(
            select(Certificate).where(
                Certificate.user_id == uid, Certificate.status == CertificateStatus.VALID
            )
        )
    }
    assert set(certificates) == {s.key for s in SITUATIONS} - {"zero_credited"}
    meeting_id = db.session.scalar(
        select(Meeting.id).where(Meeting.offering_id == offering_id).order_by(Meeting.start_dt).limit(1)
    )
    return World(offering_id, meeting_id, ids, certificates)


def _urls(app, rule, world: World, situation: Situation) -> list[str]:  # noqa: ANN001
    uid = world.ids[situation.key]
    values = {
        "offering_id": world.offering_id,
        "learner_id": uid,
        "number": 1,
        "meeting_id": world.meeting_id,
    }
    if "public_id" in rule.arguments:
        if situation.key not in world.certificates:
            return []  # nothing issued: the certificate page says why (checked below)
        values["public_id"] = world.certificates[situation.key]
    if "attempt_id" in rule.arguments:
        values["attempt_id"] = first_attempt(uid)
    if "key" in rule.arguments:
        values["key"] = (quiz_for(1) if "/quizzes/" in rule.rule else exercise_for(1)).key
    variants = [{"fmt": f} for f in ("csv", "xlsx")] if "fmt" in rule.arguments else [{}]
    with app.test_request_context():
        return [
            url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments}, **v)
            for v in variants
        ]


# --- the assertions ---------------------------------------------------------------------------------
def independent_never_ce(text: str, where: str) -> None:
    for line in text.splitlines():
        if re.search(r"independent", line, re.IGNORECASE) and re.search(r"\bCE\b", line):
            assert NOT_CE.search(line), f"{where}: independent learning labelled CE: {line!r}"


def no_ce_number(text: str, where: str) -> None:
    found = CE_NUMBER.search(text)
    assert found is None, f"{where}: CE hours shown to a learner who will not get CE: {found.group()!r}"


def ce_numbers_are(text: str, allowed: set[str], where: str) -> None:
    for m in CE_NUMBER.finditer(text):
        number = m.group(1) or m.group(2)
        if "." in number:
            assert number in allowed, f"{where}: {m.group()!r} is not the learner's CE hours {allowed}"


def learner_portion(endpoint: str, body: str, s: Situation, uid: int) -> str:
    """The part of a multi-learner page about this learner (the whole page otherwise)."""
    if endpoint == "imh.completion_matrix":
        rows = [r for r in re.findall(r"(?s)<tr\b.*?</tr>", body) if s.name in r]
        assert len(rows) == 1
        return page_text(rows[0])
    if endpoint == "imh.attendance_roster":
        found = re.search(rf'(?s)<tr id="learner-{uid}".*?</tr>', body)
        assert found, endpoint
        return page_text(found.group())
    if endpoint == "imh.staff_certificates":
        found = re.search(rf'(?s)<section class="card" id="learner-{uid}".*?</section>', body)
        assert found, endpoint
        return page_text(found.group())
    if endpoint == "imh.bulk_issue":
        return "\n".join(line for line in page_text(body).splitlines() if s.name in line)
    return page_text(body)


def _pdf_checks(text: str, s: Situation, where: str) -> None:
    if s.certifiable:
        assert f"CE contact hours: {s.ce_hours}" in text, where
    else:
        assert f"Face-to-face clock hours: {s.clock_hours} (not CE credit)" in text, where
        no_ce_number(text, where)
    assert "not eligible for CE" in text, where  # the independent learning line


def _credential_checks(body: bytes, s: Situation, where: str) -> None:
    """The Open Badges credential: credits only where CE is certified, the same hours as the PDF."""
    payload = body.decode().split(".")[1]
    vc = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    text = json.dumps(vc, indent=1, ensure_ascii=False)
    subject = vc["credentialSubject"]
    if s.certifiable:
        assert subject["achievement"]["creditsAvailable"] == float(s.ce_hours), where
        ce_numbers_are(text, {s.ce_hours}, where)
    else:
        assert "creditsAvailable" not in subject["achievement"] and "creditsEarned" not in subject, where
        assert f"{s.clock_hours} face-to-face clock hours (not CE credit)" in text, where
        no_ce_number(text, where)
    independent_never_ce(text, where)


def _row(rows: list[dict[str, str]], s: Situation, where: str) -> dict[str, str]:
    mine = [r for r in rows if r.get("Email") == s.email]
    assert len(mine) == 1, where
    return mine[0]


def check(endpoint: str, body: bytes, s: Situation, world: World, where: str) -> None:  # noqa: C901, PLR0912
    uid = world.ids[s.key]
    ce_or_blank = s.ce_hours if s.certifiable else ""
    if endpoint in {"imh.download_certificate", "imh.staff_download_certificate"}:
        _pdf_checks(pdf_text(body), s, where)
    elif endpoint == "imh.download_credential":
        _credential_checks(body, s, where)
    elif endpoint == "imh.certificates_zip_download":
        texts = zip_pdf_texts(body)
        if s.key not in world.certificates:  # nothing certified: no document for them in the ZIP
            assert not [t for t in texts.values() if s.name in t], where
            return
        (text,) = [t for name, t in texts.items() if world.certificates[s.key] in name]
        _pdf_checks(text, s, where)
    elif endpoint == "imh.training_log_pdf_download":
        text = pdf_text(body)
        assert "Independent study — not eligible for CE" in text, where
        if s.certifiable:
            assert f"{s.ce_hours} CE contact hours credited for your license (LCSW)" in text, where
        else:
            # (the log totals its per-meeting clock hours, each rounded down: not compared here)
            assert "Face-to-face clock hours — not CE" in text and "Total face-to-face clock hours" in text, (
                where
            )
            no_ce_number(text, where)
    elif endpoint == "imh.training_log_csv_download":
        rows = table_rows(body, "csv")
        text = "\n".join(" | ".join(r.values()) for r in rows)
        independent_never_ce(text, where)
        assert all(
            r["Type"] == "Independent study — not CE" for r in rows if "readings" in r["Training title"]
        )
        note = rows[-1]["Training title"]
        if s.certifiable:
            assert note.startswith(f"CE: {s.ce_hours} CE contact hours credited"), where
        else:
            assert "not CE" in note, where
            no_ce_number(text, where)
    elif endpoint in {"imh.my_data", "imh.learner_data_export"}:
        data = as_json(body)
        (enrolment,) = [e for e in data["enrolments"] if e["offering_id"] == world.offering_id]
        f2f = enrolment["face_to_face"]
        assert f2f["ce"] is s.certifiable, where
        assert f2f["hours"] == (s.ce_hours if s.certifiable else s.clock_hours), where
        assert f2f["ce_contact_hours"] == (s.ce_hours if s.certifiable else None), where
        if not s.certifiable:
            assert "not CE" in f2f["label"], where
            no_ce_number(body.decode(), where)
    elif endpoint in {"imh.export_ce_roster", "imh.export_ce_roster_all"}:
        for fmt, rows in (("", table_rows(body, _fmt(where))),):  # noqa: B007
            row = _row(rows, s, where)
            ce = s.ce_hours if s.certifiable else ""
            assert (row["CE hours"], row["Face-to-face clock hours"]) == (ce, s.clock_hours), where
    elif endpoint == "imh.export_matrix":
        row = _row(table_rows(body, _fmt(where)), s, where)
        assert (row["Face-to-face hours"], row["CE hours"]) == (s.clock_hours, ce_or_blank), where
        assert row["S1 minutes credited"] == ("60" if s.attended else "0"), where
    elif endpoint == "imh.export_funder_report":
        total = next(r for r in table_rows(body, _fmt(where)) if r["Funding"] == "Total")
        ce_minutes = sum(x.attended * 60 for x in SITUATIONS if x.certifiable)
        clock_minutes = sum(x.attended * 70 for x in SITUATIONS)
        assert total["CE hours credited"] == f"{ce_minutes * 100 // 60 / 100:.2f}", where
        assert total["Face-to-face clock hours delivered"] == f"{clock_minutes * 100 // 60 / 100:.2f}", where
    elif endpoint == "imh.calendar":
        text = body.decode()
        independent_never_ce(text, where)
        no_ce_number(text, where)
    else:
        check_html(endpoint, body.decode(), s, uid, where)


def _fmt(where: str) -> str:
    return "xlsx" if ".xlsx" in where else "csv"


def check_html(endpoint: str, body: str, s: Situation, uid: int, where: str) -> None:  # noqa: C901
    whole = page_text(body)
    independent_never_ce(whole, where)
    mine = learner_portion(endpoint, body, s, uid)
    if s.certifiable:
        ce_numbers_are(mine, {s.ce_hours, "16.50"}, where)
    else:
        no_ce_number(mine, where)
    if endpoint == "imh.attendance_roster":
        assert "CE minutes credited" not in whole and "Minutes credited" in whole, where
    if endpoint in LEDGER_PAGES or endpoint in {
        "imh.learner_drilldown", "imh.completion_matrix", "imh.staff_certificates", "imh.verify_certificate"
    }:  # fmt: skip
        if s.certifiable:
            assert "CE contact hours" in mine or "CE hours" in whole, where
            assert s.ce_hours in mine, where
        else:
            assert NOT_CE.search(mine) and s.clock_hours in mine, where
            assert s.ce_hours not in mine, f"{where}: the credited hours shown as if CE"
    if endpoint in {"imh.offering_dashboard", "imh.learner_home"}:
        expected = (
            f"CE contact hours: {s.ce_hours} of 16.50"
            if s.certifiable
            else f"— not CE for your license ({s.license_type}): {s.clock_hours} of 16.50"
            if s.license_type != "None"
            else f"not CE (no license on file): {s.clock_hours} of 16.50"
        )
        assert expected in whole, where
    if endpoint == "imh.learner_certificates":
        if s.key == "zero_credited":
            assert "No CE hours have been credited and no meetings remain: no CE certificate." in whole
            assert "nothing to attest" in whole and 'name="confirm"' not in body, where
        elif not s.certifiable:
            assert "certificate of completion (not CE)" in whole, where
            assert "Edit your profile" in whole and "approvals cover LCSW, LMSW" in whole, where
        if s.key != "certifiable":
            assert "You will receive a CE certificate" not in whole, where
    if endpoint == "imh.session_page" and not s.certifiable:
        assert "not CE for your license" in whole, where


@pytest.mark.parametrize("situation", SITUATIONS, ids=lambda s: s.key)
def test_every_surface_says_ce_only_where_ce_will_be_certified(app, client, login, world, situation):
    """Every learner page, staff page and export about this learner, read back by content."""
    rules = sorted(get_rules(app), key=lambda r: r.endpoint)
    seen = set()
    for group, persona in ((LEARNER, situation.email), (STAFF, COORDINATOR), (PUBLIC, None)):
        if persona:
            login(persona)
        for rule in (r for r in rules if r.endpoint in group):
            for url in _urls(app, rule, world, situation):
                with client.get(url, follow_redirects=True) as response:  # closed: the ZIP is a spooled file
                    assert response.status_code == 200, url
                    body = response.get_data()
                check(rule.endpoint, body, situation, world, f"{url} [{situation.key}]")
                seen.add(rule.endpoint)
        if persona:
            client.post("/logout")
    without_certificate = {
        "imh.download_certificate",
        "imh.download_credential",
        "imh.staff_download_certificate",
        "imh.verify_certificate",
    }
    expected = LEARNER | STAFF | PUBLIC
    assert seen == (expected - without_certificate if situation.key == "zero_credited" else expected)
