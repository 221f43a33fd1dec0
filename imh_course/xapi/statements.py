"""xAPI statements built from plain facts: no Flask, no database, so they are tested as values.

Every builder returns a complete statement (a dict ready for JSON) with its ``id`` and
``timestamp`` fixed at build time: the queue stores it as built and sends the same bytes on every
retry, so an LRS sees an identical statement and answers "already stored" instead of keeping two
(xAPI 1.0.3 §2.1.1: a statement id is unique; an equivalent repeat is accepted, a different one
is a conflict).

Ids are UUID v5 of the deployment's base URL and a *natural key* of the event ("reading
completed: learner 7, offering 2, reading s01-r1"): the same event always gets the same id, even
if it were queued twice, and two deployments that share an LRS never collide.

Vocabulary: ADL verbs and activity types (adlnet.gov/expapi), Activity Streams' ``submit`` and
Tin Can's ``earned`` from the xAPI vocabulary registry. Activity and extension ids live under the
deployment's base URL. The learner is identified by ``mbox_sha1sum`` (the address never leaves the
site); :class:`Learner` carries an optional LMS account for learners who come through LTI.
Exercise builders take no text at all: a reflective response is private and cannot be sent.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

XAPI_VERSION = "1.0.3"

VERB_ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
VERB_COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
VERB_SUBMITTED = "http://activitystrea.ms/submit"
VERB_ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
VERB_PASSED = "http://adlnet.gov/expapi/verbs/passed"
VERB_EARNED = "http://id.tincanapi.com/verb/earned"
VERB_VOIDED = "http://adlnet.gov/expapi/verbs/voided"

TYPE_COURSE = "http://adlnet.gov/expapi/activities/course"
TYPE_OFFERING = "http://adlnet.gov/expapi/activities/module"
TYPE_MEETING = "http://adlnet.gov/expapi/activities/meeting"
TYPE_READING = "http://id.tincanapi.com/activitytype/document"
TYPE_EXERCISE = "http://adlnet.gov/expapi/activities/interaction"
TYPE_QUIZ = "http://adlnet.gov/expapi/activities/assessment"
TYPE_CERTIFICATE = "http://adlnet.gov/expapi/activities/objective"

VERB_NAMES = {
    VERB_ATTENDED: "attended",
    VERB_COMPLETED: "completed",
    VERB_SUBMITTED: "submitted",
    VERB_ANSWERED: "answered",
    VERB_PASSED: "passed",
    VERB_EARNED: "earned",
    VERB_VOIDED: "voided",
}
LANG = "en-US"


@dataclass(frozen=True)
class Learner:
    """Who did it, as far as an LRS may know: the address (hashed) or an LMS account (LTI).

    ``lms_account`` is (homePage, name) of the learner's account at the platform that launched
    them; when present it identifies the agent instead of the hashed address.
    """

    email: str
    lms_account: tuple[str, str] | None = None


@dataclass(frozen=True)
class Site:
    """The deployment: its public address and the course and offering the event belongs to."""

    base_url: str
    course_key: str
    course_title: str
    offering_id: int
    offering_label: str

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")


def mbox_sha1sum(email: str) -> str:
    """sha1 of ``mailto:<address>`` (xAPI §2.4.2.3), the address trimmed and lower-cased."""
    return hashlib.sha1(f"mailto:{email.strip().lower()}".encode()).hexdigest()  # noqa: S324 - spec


def agent(learner: Learner) -> dict[str, Any]:
    """The actor: an LMS account when the learner came through LTI, else the hashed mailbox."""
    if learner.lms_account is not None:
        home_page, name = learner.lms_account
        return {"objectType": "Agent", "account": {"homePage": home_page, "name": name}}
    return {"objectType": "Agent", "mbox_sha1sum": mbox_sha1sum(learner.email)}


def statement_id(base_url: str, key: str) -> str:
    """The stable id of the statement for event ``key`` at this deployment (UUID v5)."""
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/xapi")
    return str(uuid.uuid5(namespace, key))


def activity_id(site: Site, kind: str, key: str | int) -> str:
    return f"{site.base}/xapi/activities/{kind}/{key}"


def extension_id(site: Site, name: str) -> str:
    return f"{site.base}/xapi/extensions/{name}"


def duration(minutes: int) -> str:
    """ISO 8601 duration of whole minutes (``PT90M``)."""
    return f"PT{max(int(minutes), 0)}M"


def timestamp(moment: datetime) -> str:
    """UTC, whole milliseconds, ``Z``: one spelling, so a rebuilt statement compares equal."""
    value = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _activity(activity: str, type_: str, name: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": activity,
        "definition": {"type": type_, "name": {LANG: name}},
    }


def _context(site: Site) -> dict[str, Any]:
    return {
        "platform": "imh-course",
        "language": LANG,
        "contextActivities": {
            "parent": [
                _activity(activity_id(site, "offering", site.offering_id), TYPE_OFFERING, site.offering_label)
            ],
            "grouping": [
                _activity(activity_id(site, "course", site.course_key), TYPE_COURSE, site.course_title)
            ],
        },
    }


def _statement(
    site: Site,
    key: str,
    learner: Learner,
    verb: str,
    obj: dict[str, Any],
    when: datetime,
    result: dict[str, Any] | None = None,
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "id": statement_id(site.base, key),
        "actor": agent(learner),
        "verb": {"id": verb, "display": {LANG: VERB_NAMES[verb]}},
        "object": obj,
        "context": _context(site),
        "timestamp": timestamp(when),
        "version": XAPI_VERSION,
    }
    if result is not None:
        statement["result"] = result
    return statement


# --- the events ----------------------------------------------------------------------------------


def attended_meeting(
    site: Site,
    learner: Learner,
    *,
    key: str,
    meeting_id: int,
    title: str,
    start: datetime,
    attended_minutes: int,
    credited_minutes: int,
    ce_eligible: bool,
) -> dict[str, Any]:
    """Attended a meeting: clock minutes as the duration; attended and CE-credited minutes as extensions."""
    result = {
        "completion": True,
        "duration": duration(attended_minutes),
        "extensions": {
            extension_id(site, "attended-minutes"): int(attended_minutes),
            extension_id(site, "credited-minutes"): int(credited_minutes),
            extension_id(site, "ce-eligible"): bool(ce_eligible),
        },
    }
    obj = _activity(activity_id(site, "meeting", meeting_id), TYPE_MEETING, title)
    return _statement(site, key, learner, VERB_ATTENDED, obj, start, result)


def completed_reading(
    site: Site, learner: Learner, *, key: str, reading_key: str, title: str, minutes: int, when: datetime
) -> dict[str, Any]:
    obj = _activity(activity_id(site, "reading", reading_key), TYPE_READING, title)
    result = {"completion": True, "duration": duration(minutes)}
    return _statement(site, key, learner, VERB_COMPLETED, obj, when, result)


def submitted_exercise(
    site: Site, learner: Learner, *, key: str, exercise_key: str, title: str, minutes: int, when: datetime
) -> dict[str, Any]:
    """Submitted an exercise; the learner's text is not a parameter, so it can never be sent."""
    obj = _activity(activity_id(site, "exercise", exercise_key), TYPE_EXERCISE, title)
    result = {"completion": True, "duration": duration(minutes)}
    return _statement(site, key, learner, VERB_SUBMITTED, obj, when, result)


def quiz_attempt(
    site: Site,
    learner: Learner,
    *,
    key: str,
    quiz_key: str,
    title: str,
    attempt_no: int,
    points: int,
    max_points: int,
    passed: bool,
    when: datetime,
) -> dict[str, Any]:
    """An attempt: ``passed`` when it passed, else ``answered`` (success false); the score either way."""
    scaled = round(points / max_points, 4) if max_points else 0.0
    result = {
        "success": bool(passed),
        "completion": True,
        "score": {"raw": points, "min": 0, "max": max_points, "scaled": scaled},
        "extensions": {extension_id(site, "attempt"): int(attempt_no)},
    }
    obj = _activity(activity_id(site, "quiz", quiz_key), TYPE_QUIZ, title)
    return _statement(site, key, learner, VERB_PASSED if passed else VERB_ANSWERED, obj, when, result)


def earned_certificate(
    site: Site, learner: Learner, *, key: str, public_id: str, kind: str, title: str, when: datetime
) -> dict[str, Any]:
    """Earned a certificate (CE or completion); its public id names the activity."""
    obj = _activity(activity_id(site, "certificate", public_id), TYPE_CERTIFICATE, title)
    result = {"completion": True, "extensions": {extension_id(site, "certificate-kind"): kind}}
    return _statement(site, key, learner, VERB_EARNED, obj, when, result)


def voiding(site: Site, learner: Learner, *, key: str, target_id: str, when: datetime) -> dict[str, Any]:
    """Void an earlier statement (a corrected attendance, a revoked certificate): xAPI §2.3.2."""
    statement = {
        "id": statement_id(site.base, key),
        "actor": agent(learner),
        "verb": {"id": VERB_VOIDED, "display": {LANG: "voided"}},
        "object": {"objectType": "StatementRef", "id": target_id},
        "timestamp": timestamp(when),
        "version": XAPI_VERSION,
    }
    return statement
